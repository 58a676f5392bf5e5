/**
 * The version commands: Open on each row of the Version history, the rest in the row's ⋯ menu
 * and in its right-click menu. Commands rather than buttons, so that both menus are JupyterLab
 * menus and show the same labels, with what is unavailable hidden or disabled.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { copyIcon } from '@jupyterlab/ui-components';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { Stage } from './api';
import { baseName } from './format';
import { publishIcon } from './icons';
import { ActionGroups, addRowCommands } from './menus';
import { HistoryModel, IVersionActions, VersionAction } from './model';

export const VERSION_COMMANDS: Record<VersionAction, string> = {
  open: 'bookstore:version-open',
  compare: 'bookstore:version-compare',
  restoreCopy: 'bookstore:version-restore-copy',
  restoreOverwrite: 'bookstore:version-replace',
  publish: 'bookstore:version-publish',
  copyId: 'bookstore:version-copy-id'
};

/** The ⋯ menu, in groups; Open, the most common action, is on the row itself. */
export const ROW_MENU: ActionGroups<VersionAction> = [
  ['compare', 'restoreCopy', 'restoreOverwrite'],
  ['publish'],
  ['copyId']
];

/** The class of a version's row; the right-click menu's selector. */
export const VERSION_ROW_CLASS = 'jp-bookstore-Version';

/** Which version a command acts on, as its args name it. */
export interface IVersionArgs extends ReadonlyJSONObject {
  stage: Stage;
  versionId: string;
}

const LABELS: Record<VersionAction, string> = {
  open: 'Open',
  compare: 'Compare…',
  restoreCopy: 'Restore as copy',
  restoreOverwrite: 'Replace…',
  publish: 'Publish this save',
  copyId: 'Copy version id'
};

function caption(action: VersionAction, path: string | null): string {
  const name = path === null ? 'the notebook' : baseName(path);
  switch (action) {
    case 'open':
      return 'Open this version read-only in a new tab';
    case 'compare':
      return 'Compare this version with the notebook as saved now, or with another version';
    case 'restoreCopy':
      return `Restore this version as a new notebook beside ${name}`;
    case 'restoreOverwrite':
      return `Replace ${name} with this version (asks first)`;
    case 'publish':
      return 'Publish this save, not the notebook as saved now';
    case 'copyId':
      return 'Copy the full version id: a DAG pins a version with version_id=';
  }
}

function isStage(value: unknown): value is Stage {
  return value === 'workspace' || value === 'published';
}

/** Add the version commands and the rows' right-click menu. */
export function addVersionCommands(app: JupyterFrontEnd, model: HistoryModel, actions: IVersionActions): void {
  addRowCommands<VersionAction, { stage: Stage; versionId: string | null }>(app, {
    ids: VERSION_COMMANDS,
    labels: LABELS,
    caption: action => caption(action, model.path),
    icon: action => (action === 'copyId' ? copyIcon : action === 'publish' ? publishIcon : undefined),
    rowClass: VERSION_ROW_CLASS,
    contextMenu: [['open'], ...ROW_MENU],
    fromArgs: args =>
      isStage(args.stage) && typeof args.versionId === 'string'
        ? { stage: args.stage, versionId: args.versionId }
        : null,
    fromRow: row =>
      isStage(row.dataset.stage) ? { stage: row.dataset.stage, versionId: row.dataset.versionId || null } : null,
    isVisible: (action, version) => model.isAvailable(action, version.stage),
    isEnabled: (action, version) => model.isEnabled(action, version.stage, version.versionId),
    execute: (action, version) => model.perform(actions, action, version.stage, version.versionId)
  });
}
