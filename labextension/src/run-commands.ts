/**
 * The run commands: Open on each row of the Runs view, the rest in the row's ⋯ menu and in its
 * right-click menu, as for versions (commands.ts); and comparing the two runs chosen.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { copyIcon, launchIcon } from '@jupyterlab/ui-components';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { ActionGroups, addRowCommands } from './menus';
import { HistoryModel } from './model';
import { IRunActions, RunAction } from './runs-model';

export const RUN_COMMANDS: Record<RunAction, string> = {
  open: 'bookstore:run-open',
  comparePrevious: 'bookstore:run-compare-previous',
  openAirflow: 'bookstore:run-open-airflow',
  openViewer: 'bookstore:run-open-viewer',
  copyRunId: 'bookstore:run-copy-id'
};

/** Compare the two runs chosen in the Runs view. */
export const COMPARE_CHOSEN_RUNS = 'bookstore:runs-compare-chosen';

/** The ⋯ menu, in groups; Open, the most common action, is on the row itself. */
export const RUN_MENU: ActionGroups<RunAction> = [['comparePrevious'], ['openAirflow', 'openViewer'], ['copyRunId']];

/** The class of a run's row; the right-click menu's selector. */
export const RUN_ROW_CLASS = 'jp-bookstore-Run';

/** Which run a command acts on, as its args name it. */
export interface IRunArgs extends ReadonlyJSONObject {
  runId: string;
}

const LABELS: Record<RunAction, string> = {
  open: 'Open executed notebook',
  comparePrevious: 'Compare with previous run',
  openAirflow: 'Open in Airflow',
  openViewer: 'View in Airflow',
  copyRunId: 'Copy run id'
};

const CAPTIONS: Record<RunAction, string> = {
  open: 'Open the notebook this run executed, with its outputs, read-only in a new tab',
  comparePrevious: "Compare this run's executed notebook with the one of the run before it",
  openAirflow: 'Open the Airflow task that ran the notebook (its logs, its DAG run)',
  openViewer: "Open the executed notebook in Airflow's viewer",
  copyRunId: 'Copy the run id: bookstore rerun repeats a run'
};

/** The actions that open Airflow in a new browser tab. */
const LINKS: ReadonlySet<RunAction> = new Set(['openAirflow', 'openViewer']);

/** Add the run commands and the rows' right-click menu. */
export function addRunCommands(app: JupyterFrontEnd, model: HistoryModel, actions: IRunActions): void {
  const runs = model.runs;
  addRowCommands<RunAction, string>(app, {
    ids: RUN_COMMANDS,
    labels: LABELS,
    caption: action => CAPTIONS[action],
    icon: action => (action === 'copyRunId' ? copyIcon : LINKS.has(action) ? launchIcon : undefined),
    rowClass: RUN_ROW_CLASS,
    contextMenu: [['open'], ...RUN_MENU],
    fromArgs: args => (typeof args.runId === 'string' ? args.runId : null),
    fromRow: row => row.dataset.runId || null,
    isVisible: (action, runId) => runs.isAvailable(action, runs.run(runId)),
    isEnabled: (action, runId) => runs.isEnabled(action, runId),
    execute: (action, runId) => runs.perform(actions, action, runId)
  });
  app.commands.addCommand(COMPARE_CHOSEN_RUNS, {
    label: 'Compare chosen runs',
    caption: "Compare the executed notebooks of the two runs chosen: the earlier one's on the left",
    isEnabled: () => runs.canCompareSelected,
    execute: () => runs.compareSelected(actions)
  });
}
