/**
 * The dialog after publishing: the published version id, copyable, and what it came from; or,
 * when the content was published already, that version and a way to publish anyway.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IPublished } from './api';
import { element } from './dom';
import { baseName } from './format';
import { describePublished } from './messages';

/**
 * The dialog's body: the version id in a read-only field with a Copy button beside it. `id` is
 * the version's short id, as the Version history shows it.
 */
export function publishedBody(published: IPublished, id: string): Widget {
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
    published.unchanged
      ? element(
          'p',
          { class: 'jp-bookstore-Published-unchanged' },
          describePublished(published, id).text,
          ' A DAG that pins its version id runs it; Publish anyway makes a new version of the same content.'
        )
      : element(
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

/** What the person chose in the dialog. */
export type PublishedChoice = 'close' | 'history' | 'publish-anyway';

const PUBLISH_ANYWAY = 'Publish anyway';
const SHOW_HISTORY = 'Show history';

/** Show the dialog, and answer what the person chose. */
export async function showPublished(published: IPublished, id: string): Promise<PublishedChoice> {
  const name = baseName(published.path);
  const result = await showDialog({
    title: published.unchanged ? `${name} is already published` : `Published ${name}`,
    body: publishedBody(published, id),
    buttons: [
      Dialog.cancelButton({ label: SHOW_HISTORY }),
      ...(published.unchanged ? [Dialog.createButton({ label: PUBLISH_ANYWAY })] : []),
      Dialog.okButton({ label: 'Close' })
    ],
    focusNodeSelector: '.jp-bookstore-Published-copy'
  });
  switch (result.button.label) {
    case SHOW_HISTORY:
      return 'history';
    case PUBLISH_ANYWAY:
      return 'publish-anyway';
    default:
      return 'close';
  }
}
