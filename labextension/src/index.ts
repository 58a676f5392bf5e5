/**
 * bookstore in JupyterLab: a Publish command (notebook toolbar, command palette, File menu),
 * a Version history side panel and a Published notebooks side panel (the team's catalog), all
 * speaking only bookstore's REST API.
 *
 * This module only wires the pieces together: the history panel's state is HistoryModel
 * (model.ts), what is done to a version is VersionActions (actions.ts), run through commands
 * (commands.ts), and to a run RunActions and the run commands, and to a schedule ScheduleActions
 * and the schedule commands; the catalog's are CatalogModel, CatalogActions and the catalog
 * commands.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';

import { VersionActions } from './actions';
import { BookstoreClient, Requester, Stage } from './api';
import { CatalogActions } from './catalog-actions';
import { addCatalogCommands } from './catalog-commands';
import { CatalogModel } from './catalog-model';
import { CatalogPanel } from './catalog-panel';
import { addVersionCommands } from './commands';
import { baseName } from './format';
import { catalogIcon, historyIcon, publishIcon } from './icons';
import { describeError } from './messages';
import { HistoryModel } from './model';
import { HistoryPanel } from './panel';
import { RunActions } from './run-actions';
import { addRunCommands } from './run-commands';
import { ScheduleActions } from './schedule-actions';
import { SCHEDULE_COMMAND, addScheduleCommands } from './schedule-commands';

export const PLUGIN_ID = 'notebook-bookstore:plugin';

export namespace CommandIDs {
  export const publish = 'bookstore:publish';
  export const openHistory = 'bookstore:open-history';
  export const openCatalog = 'bookstore:open-catalog';
}

/** Requests to the Jupyter server, with its base URL, token and XSRF cookie. */
function serverRequester(settings: ServerConnection.ISettings): Requester {
  const base = settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`;
  return (path, init) => ServerConnection.makeRequest(`${base}${path}`, init, settings);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Publish the open notebook; browse, view, compare and restore its archived versions; see the runs of ' +
    "its published versions; browse the team's published notebooks.",
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry, IEditorServices, NotebookPanel.IContentFactory],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    editorServices: IEditorServices,
    contentFactory: NotebookPanel.IContentFactory,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const { commands, shell, serviceManager } = app;
    const client = new BookstoreClient(serverRequester(serviceManager.serverSettings));
    const localPath = (panel: NotebookPanel) => serviceManager.contents.localPath(panel.context.path);
    const model = new HistoryModel(client);
    const catalog = new CatalogModel(client);
    let publishing = false;

    const showHistory = (stage?: Stage) => {
      if (stage) {
        model.stage = stage;
      }
      shell.activateById(panel.id);
    };

    const actions = new VersionActions({
      app,
      client,
      model,
      tracker,
      rendermime,
      contentFactory,
      mimeTypeService: editorServices.mimeTypeService,
      localPath,
      showHistory,
      onPublished: () => catalog.markStale()
    });
    addVersionCommands(app, model, actions);
    addRunCommands(
      app,
      model,
      new RunActions({
        app,
        client,
        model,
        rendermime,
        contentFactory,
        mimeTypeService: editorServices.mimeTypeService
      })
    );

    addScheduleCommands(app, model, new ScheduleActions(client), {
      showSchedules: () => {
        model.tab = 'schedules';
        shell.activateById(panel.id);
      }
    });

    const panel = new HistoryPanel(model, commands);
    model.schedules.written.connect(() => catalog.markStale());
    panel.title.caption = 'Version history (bookstore)';
    shell.add(panel, 'right', { rank: 650 });
    restorer?.add(panel, 'notebook-bookstore:history');

    const catalogActions = new CatalogActions({
      app,
      client,
      model: catalog,
      tracker,
      rendermime,
      contentFactory,
      mimeTypeService: editorServices.mimeTypeService,
      localPath
    });
    addCatalogCommands(app, catalog, catalogActions);

    const catalogPanel = new CatalogPanel(catalog, commands);
    catalogPanel.title.caption = 'Published notebooks (bookstore)';
    shell.add(catalogPanel, 'left', { rank: 650 });
    restorer?.add(catalogPanel, 'notebook-bookstore:catalog');

    const follow = () => {
      const current = tracker.currentWidget;
      model.setPath(current ? localPath(current) : null);
      commands.notifyCommandChanged(CommandIDs.publish);
      commands.notifyCommandChanged(SCHEDULE_COMMAND);
    };
    tracker.currentChanged.connect(follow);
    tracker.widgetAdded.connect((_, widget) => {
      widget.context.saveState.connect((context, state) => {
        if (state === 'completed' && localPath(widget) === model.path) {
          void model.refreshAfterSave();
        }
      });
      widget.context.pathChanged.connect(() => {
        if (widget === tracker.currentWidget) {
          follow();
        }
      });
    });
    void app.restored.then(follow);

    commands.addCommand(CommandIDs.publish, {
      label: 'Publish Notebook',
      caption: 'Save this notebook and publish it: Airflow DAGs run published versions',
      icon: publishIcon,
      isEnabled: () => tracker.currentWidget !== null && !publishing,
      execute: async () => {
        const current = tracker.currentWidget;
        if (!current || publishing) {
          return;
        }
        publishing = true;
        commands.notifyCommandChanged(CommandIDs.publish);
        try {
          await current.context.ready;
          if (current.context.model.dirty) {
            await current.context.save();
          }
          model.notice = await actions.publish(localPath(current));
        } catch (error) {
          await showErrorMessage(`Could not publish ${baseName(current.context.path)}`, describeError(error));
        } finally {
          publishing = false;
          commands.notifyCommandChanged(CommandIDs.publish);
        }
      }
    });

    commands.addCommand(CommandIDs.openHistory, {
      label: 'Show Version History',
      caption: "The open notebook's saved and published versions",
      icon: historyIcon,
      execute: () => showHistory()
    });

    commands.addCommand(CommandIDs.openCatalog, {
      label: 'Show Published Notebooks',
      caption: "The team's published notebooks: open, compare or copy one, or get what a DAG needs to run it",
      icon: catalogIcon,
      execute: () => shell.activateById(catalogPanel.id)
    });

    for (const command of [CommandIDs.publish, SCHEDULE_COMMAND, CommandIDs.openHistory, CommandIDs.openCatalog]) {
      palette?.addItem({ command, category: 'Bookstore' });
    }
  }
};

export default plugin;
