/**
 * The dialog after publishing: the published version id, copyable, and what it came from; or,
 * when the content was published already, that version and a way to publish anyway. Below,
 * the published notebook's parameters, or a warning that it declares none with a way to tag
 * the cell that assigns them.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IPublished } from './api';
import { element } from './dom';
import { baseName } from './format';
import { describePublished } from './messages';
import { IParametersSection } from './parameters';

/** The parameters section: what the notebook declares, in a table, or what to do. */
export function parametersNode(section: IParametersSection): HTMLElement {
  const node = element(
    'div',
    { class: 'jp-bookstore-Parameters', 'data-testid': 'parameters' },
    element('p', { class: `jp-bookstore-Notice jp-bookstore-Notice-${section.level}` }, section.text)
  );
  // What the button does, or how to tag by hand, before a list that may scroll.
  if (section.hint) {
    node.append(element('p', { class: 'jp-bookstore-Parameters-hint' }, section.hint));
  }
  if (section.parameters.length > 0) {
    const header = element(
      'tr',
      {},
      ...['Name', 'Type', 'Default', 'Help'].map(title => element('th', { scope: 'col' }, title))
    );
    const rows = section.parameters.map(parameter =>
      element(
        'tr',
        { 'data-parameter': parameter.name },
        element('td', {}, element('code', {}, parameter.name)),
        element('td', {}, parameter.type ?? ''),
        element('td', {}, element('code', {}, parameter.default)),
        element('td', {}, parameter.help)
      )
    );
    node.append(
      element(
        'table',
        { class: 'jp-bookstore-Parameters-table' },
        ...(section.caption ? [element('caption', {}, section.caption)] : []),
        element('thead', {}, header),
        element('tbody', {}, ...rows)
      )
    );
  }
  return node;
}

/**
 * The dialog's body: the version id in a read-only field with a Copy button beside it, and the
 * parameters section when there is one. `id` is the version's short id, as the Version history
 * shows it.
 */
export function publishedBody(
  published: IPublished,
  id: string,
  parameters: IParametersSection | null = null
): Widget {
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
      element('dt', {}, 'Key in the bucket'),
      element('dd', {}, element('code', {}, published.key)),
      element('dt', {}, 'From workspace version'),
      element('dd', {}, element('code', {}, published.source_version_id ?? 'null'))
    )
  );
  if (parameters) {
    node.append(parametersNode(parameters));
  }
  return new Widget({ node });
}

/** What the person chose in the dialog. */
export type PublishedChoice = 'close' | 'history' | 'publish-anyway' | 'tag-cell';

const PUBLISH_ANYWAY = 'Publish anyway';
const SHOW_HISTORY = 'Show history';

/**
 * Show the dialog, and answer what the person chose. `parameters` is null when they could not
 * be read: the dialog then has no parameters section.
 */
export async function showPublished(
  published: IPublished,
  id: string,
  parameters: IParametersSection | null = null
): Promise<PublishedChoice> {
  const name = baseName(published.path);
  const tag = parameters?.tagLabel ?? null;
  const result = await showDialog({
    title: published.unchanged ? `${name} is already published` : `Published ${name}`,
    body: publishedBody(published, id, parameters),
    buttons: [
      Dialog.cancelButton({ label: SHOW_HISTORY }),
      ...(published.unchanged ? [Dialog.createButton({ label: PUBLISH_ANYWAY })] : []),
      ...(tag ? [Dialog.createButton({ label: tag, className: 'jp-bookstore-Parameters-tag' })] : []),
      Dialog.okButton({ label: 'Close' })
    ],
    focusNodeSelector: '.jp-bookstore-Published-copy'
  });
  switch (result.button.label) {
    case SHOW_HISTORY:
      return 'history';
    case PUBLISH_ANYWAY:
      return 'publish-anyway';
    case tag:
      return 'tag-cell';
    default:
      return 'close';
  }
}
