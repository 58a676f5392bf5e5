/**
 * bookstore in JupyterLab: a Publish command (notebook toolbar, command palette, File menu)
 * and a Version history side panel, both speaking only bookstore's REST API.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';

import { BookstoreClient, IPublished, IVersion, Requester, Stage } from './api';
import { baseName, formatTime, shortId } from './format';
import { describeError } from './messages';
import { HistoryModel, HistoryPanel, IVersionActions } from './panel';
import { publishIcon, historyIcon } from './icons';
import { showPublished } from './publish';
import { createVersionView } from './viewer';

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
  description: 'Publish the open notebook, and browse, view and restore its archived versions.',
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

    /** The dialog after publishing; the published list is fresh by then. */
    const published = async (answer: IPublished): Promise<string> => {
      if (answer.path === model.path) {
        void model.histories.published.reload();
      }
      if (await showPublished(answer)) {
        showHistory('published');
      }
      return `Published version ${shortId(answer.version_id)} of ${baseName(answer.path)}.`;
    };

    const actions: IVersionActions = {
      open: async (path: string, stage: Stage, version: IVersion) => {
        const content = (await client.notebook(path, stage, version.version_id)) as unknown;
        const when = formatTime(version.last_modified);
        const view = createVersionView({
          content: content as nbformat.INotebookContent,
          label: `${baseName(path)} @ ${when}`,
          caption: `${path}\n${stage} version ${version.version_id} of ${when} (read-only)`,
          description:
            `Read-only: the ${stage === 'published' ? 'published' : 'saved'} version of ${when} ` +
            `(${shortId(version.version_id)}) of ${path}`,
          rendermime,
          contentFactory,
          mimeTypeService: editorServices.mimeTypeService
        });
        shell.add(view, 'main');
        shell.activateById(view.id);
      },
      restoreCopy: async (path: string, stage: Stage, version: IVersion) => {
        const restored = await client.restore(path, { stage, version_id: version.version_id as string });
        await commands.execute('docmanager:open', { path: restored.path });
        return `Restored the version of ${formatTime(version.last_modified)} as ${restored.path}.`;
      },
      restoreOverwrite: async (path: string, stage: Stage, version: IVersion) => {
        const open = tracker.find(widget => localPath(widget) === path);
        const dirty = open?.context.model.dirty ?? false;
        const when = formatTime(version.last_modified);
        const answer = await showDialog({
          title: `Replace ${baseName(path)}?`,
          body:
            `${path} will be replaced by the ${stage === 'published' ? 'published' : 'saved'} version of ` +
            `${when} (${shortId(version.version_id)}). ` +
            (dirty ? 'Your unsaved changes in the open notebook will be lost. ' : '') +
            'What is saved now stays in the version history, so you can restore it again.',
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
        });
        if (!answer.button.accept) {
          return null;
        }
        await client.restore(path, {
          stage,
          version_id: version.version_id as string,
          target_path: path,
          overwrite: true
        });
        if (open) {
          // The file changed under the open notebook: show what is on disk now.
          await open.context.revert();
        }
        void model.refreshAfterSave();
        return `Replaced ${baseName(path)} with the version of ${when}.`;
      },
      publishVersion: async (path: string, version: IVersion) => {
        return published(await client.publish(path, version.version_id as string));
      }
    };

    const panel = new HistoryPanel(model, actions);
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
          const answer = await client.publish(localPath(current));
          model.notice = { level: 'ok', text: await published(answer) };
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
