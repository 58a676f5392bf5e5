/**
 * The schedule commands: Schedule… beside Publish (notebook toolbar, File menu, command
 * palette), and on each row of the Schedules tab Run now, the rest in the row's ⋯ menu and in
 * its right-click menu, as for versions and runs (commands.ts, run-commands.ts).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { copyIcon, deleteIcon, editIcon, runIcon } from '@jupyterlab/ui-components';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { scheduleIcon } from './icons';
import { ActionGroups, addRowCommands } from './menus';
import { HistoryModel } from './model';
import { IScheduleActions, ScheduleAction } from './schedules-model';

/** Open the Schedule form on the open notebook. */
export const SCHEDULE_COMMAND = 'bookstore:schedule';

export const SCHEDULE_COMMANDS: Record<ScheduleAction, string> = {
  runNow: 'bookstore:schedule-run-now',
  edit: 'bookstore:schedule-edit',
  disable: 'bookstore:schedule-disable',
  enable: 'bookstore:schedule-enable',
  delete: 'bookstore:schedule-delete',
  copyDagId: 'bookstore:schedule-copy-dag-id'
};

/** The ⋯ menu, in groups; Run now is on the row itself. */
export const SCHEDULE_MENU: ActionGroups<ScheduleAction> = [['edit', 'disable', 'enable'], ['delete'], ['copyDagId']];

/** The class of a schedule's row; the right-click menu's selector. */
export const SCHEDULE_ROW_CLASS = 'jp-bookstore-Schedule';

/** Which schedule a command acts on, as its args name it. */
export interface IScheduleArgs extends ReadonlyJSONObject {
  name: string;
}

const LABELS: Record<ScheduleAction, string> = {
  runNow: 'Run now',
  edit: 'Edit…',
  disable: 'Disable',
  enable: 'Enable',
  delete: 'Delete…',
  copyDagId: 'Copy DAG id'
};

const CAPTIONS: Record<ScheduleAction, string> = {
  runNow: "Ask Airflow to run the notebook now, with this schedule's version and parameters",
  edit: 'Change when it runs, its version, parameters, retries, timeout or who is told of a failure',
  disable: 'Stop running on this schedule; its DAG stays in Airflow, paused',
  enable: 'Run on this schedule again',
  delete: 'Remove this schedule (asks first); Airflow removes its DAG at its next parse',
  copyDagId: "Copy the id of the Airflow DAG that runs this schedule, to find it in Airflow's UI"
};

const ICONS: Partial<Record<ScheduleAction, typeof copyIcon>> = {
  runNow: runIcon,
  edit: editIcon,
  delete: deleteIcon,
  copyDagId: copyIcon
};

/**
 * Add the Schedule… command (it shows the Schedules tab with what was saved) and the schedule
 * row commands with the rows' right-click menu.
 */
export function addScheduleCommands(
  app: JupyterFrontEnd,
  model: HistoryModel,
  actions: IScheduleActions,
  options: { showSchedules(): void }
): void {
  const schedules = model.schedules;
  addRowCommands<ScheduleAction, string>(app, {
    ids: SCHEDULE_COMMANDS,
    labels: LABELS,
    caption: action => CAPTIONS[action],
    icon: action => ICONS[action],
    rowClass: SCHEDULE_ROW_CLASS,
    contextMenu: [['runNow'], ...SCHEDULE_MENU],
    fromArgs: args => (typeof args.name === 'string' ? args.name : null),
    fromRow: row => row.dataset.name || null,
    isVisible: (action, name) => schedules.isAvailable(action, schedules.schedule(name)),
    isEnabled: (action, name) => schedules.isEnabled(action, name),
    execute: (action, name) => schedules.perform(actions, action, name)
  });
  app.commands.addCommand(SCHEDULE_COMMAND, {
    label: 'Schedule Notebook…',
    caption: 'Run the published notebook on Airflow on a schedule: at each publication, hourly, daily or weekly',
    icon: scheduleIcon,
    isEnabled: () => model.path !== null,
    execute: async () => {
      // The Version history follows the open notebook: its path is the one to schedule.
      if (await schedules.create(actions)) {
        options.showSchedules();
      }
    }
  });
}
