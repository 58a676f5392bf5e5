/**
 * bookstore in JupyterLab: a Publish command (notebook toolbar, command palette, File menu)
 * and a Version history side panel, both speaking only bookstore's REST API.
 *
 * This module only wires the pieces together: the panel's state is HistoryModel (model.ts),
 * what is done to a version is VersionActions (actions.ts), run through commands (commands.ts).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';

import { VersionActions } from './actions';
import { BookstoreClient, Requester, Stage } from './api';
import { addVersionCommands } from './commands';
import { baseName } from './format';
import { historyIcon, publishIcon } from './icons';
import { describeError } from './messages';
import { HistoryModel } from './model';
import { HistoryPanel } from './panel';

export const PLUGIN_ID = 'notebook-bookstore:plugin';

export namespace CommandIDs {
  export const publish = 'bookstore:publish';
  export const openHistory = 'bookstore:open-history';
}

/** Requests to the Jupyter server, with its base URL, token and XSRF cookie. */
function serverRequester(settings: ServerConnection.ISettings): Requester {
  const base = settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`;
  return (path, init) => ServerConnection.makeRequest(`${base}${path}`, init, settings);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Publish the open notebook, and browse, view, compare and restore its archived versions.',
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
      showHistory
    });
    addVersionCommands(app, model, actions);

    const panel = new HistoryPanel(model, commands);
    panel.title.caption = 'Version history (bookstore)';
    shell.add(panel, 'right', { rank: 650 });
    restorer?.add(panel, 'notebook-bookstore:history');

    const follow = () => {
      const current = tracker.currentWidget;
      model.setPath(current ? localPath(current) : null);
      commands.notifyCommandChanged(CommandIDs.publish);
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

    for (const command of [CommandIDs.publish, CommandIDs.openHistory]) {
      palette?.addItem({ command, category: 'Bookstore' });
    }
  }
};

export default plugin;
