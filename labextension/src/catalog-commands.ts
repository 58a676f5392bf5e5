/**
 * The catalog commands: Open on each row of Published notebooks, the rest in the row's ⋯ menu
 * and in its right-click menu. Commands rather than buttons, as for the Version history
 * (commands.ts), so that both menus are JupyterLab menus with the same labels.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { copyIcon, duplicateIcon } from '@jupyterlab/ui-components';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { CatalogAction, CatalogModel, ICatalogActions } from './catalog-model';
import { ActionGroups, addRowCommands } from './menus';

export const CATALOG_COMMANDS: Record<CatalogAction, string> = {
  open: 'bookstore:catalog-open',
  copy: 'bookstore:catalog-copy',
  compare: 'bookstore:catalog-compare',
  copyKey: 'bookstore:catalog-copy-key',
  copyId: 'bookstore:catalog-copy-id',
  copySnippet: 'bookstore:catalog-copy-snippet',
  details: 'bookstore:catalog-details'
};

/** The ⋯ menu, in groups; Open, the most common action, is on the row itself. */
export const CATALOG_MENU: ActionGroups<CatalogAction> = [
  ['copy', 'compare'],
  ['copyKey', 'copyId', 'copySnippet'],
  ['details']
];

/** The class of a published notebook's row; the right-click menu's selector. */
export const CATALOG_ROW_CLASS = 'jp-bookstore-CatalogEntry';

/** Which published notebook a command acts on, as its args name it. */
export interface ICatalogArgs extends ReadonlyJSONObject {
  notebookKey: string;
}

const LABELS: Record<CatalogAction, string> = {
  open: 'Open read-only',
  copy: 'Copy into my notebooks',
  compare: 'Compare with my notebook…',
  copyKey: 'Copy notebook_key',
  copyId: 'Copy version id',
  copySnippet: 'Copy DAG snippet',
  details: 'Details…'
};

const CAPTIONS: Record<CatalogAction, string> = {
  open: 'Open this published version read-only in a new tab',
  copy: 'Copy this published version into your own notebooks, and open the copy',
  compare: 'Compare this published version with one of your notebooks as saved',
  copyKey: 'Copy the notebook_key: PublishedNotebookOperator(notebook_key=...) runs it',
  copyId: 'Copy the full version id: a DAG pins this version with version_id=',
  copySnippet: 'Copy the PublishedNotebookOperator(...) line that runs exactly this version in a DAG',
  details: 'Who published it and when, its keys, version id and the line a DAG needs'
};

/** Add the catalog commands and the rows' right-click menu. */
export function addCatalogCommands(app: JupyterFrontEnd, model: CatalogModel, actions: ICatalogActions): void {
  addRowCommands<CatalogAction, string>(app, {
    ids: CATALOG_COMMANDS,
    labels: LABELS,
    caption: action => CAPTIONS[action],
    icon: action => (action === 'copy' ? duplicateIcon : action.startsWith('copy') ? copyIcon : undefined),
    rowClass: CATALOG_ROW_CLASS,
    contextMenu: [['open'], ...CATALOG_MENU],
    fromArgs: args => (typeof args.notebookKey === 'string' ? args.notebookKey : null),
    fromRow: row => row.dataset.notebookKey || null,
    isVisible: action => model.isAvailable(action),
    isEnabled: (action, notebookKey) => model.isEnabled(action, notebookKey),
    execute: (action, notebookKey) => model.perform(actions, action, notebookKey)
  });
}
