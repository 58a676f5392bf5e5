/** The Publish command's dialog: the published version id, copyable, and what it came from. */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IPublished } from './api';
import { baseName } from './format';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** The dialog's body: the version id in a read-only field with a Copy button beside it. */
export function publishedBody(published: IPublished): Widget {
  const versionId = published.version_id ?? 'null';
  const input = element('input', {
    class: 'jp-bookstore-Published-versionId',
    readonly: 'readonly',
    value: versionId,
    'aria-label': 'Published version id'
  });
  input.addEventListener('focus', () => input.select());
  const copy = element('button', { class: 'jp-Button jp-mod-styled jp-mod-accept jp-bookstore-Published-copy' }, 'Copy');
  copy.addEventListener('click', () => {
    Clipboard.copyToSystem(versionId);
    copy.textContent = 'Copied';
    window.setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
  const node = element(
    'div',
    { class: 'jp-bookstore-Published' },
    element(
      'p',
      {},
      'Published a copy of the saved notebook. A DAG that pins this version id runs exactly this copy, ' +
        'whatever is published later.'
    ),
    element('label', {}, 'Version id'),
    element('div', { class: 'jp-bookstore-Published-row' }, input, copy),
    element(
      'dl',
      {},
      element('dt', {}, 'S3 key'),
      element('dd', {}, element('code', {}, published.key)),
      element('dt', {}, 'From workspace version'),
      element('dd', {}, element('code', {}, published.source_version_id ?? 'null'))
    )
  );
  return new Widget({ node });
}

/** Show the dialog; answers true when the person asked to see the version history. */
export async function showPublished(published: IPublished): Promise<boolean> {
  const result = await showDialog({
    title: `Published ${baseName(published.path)}`,
    body: publishedBody(published),
    buttons: [Dialog.cancelButton({ label: 'Show history' }), Dialog.okButton({ label: 'Close' })],
    focusNodeSelector: '.jp-bookstore-Published-copy'
  });
  return result.button.label === 'Show history';
}
