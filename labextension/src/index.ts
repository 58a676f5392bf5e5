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
import { Widget } from '@lumino/widgets';

import { BookstoreClient, IPublished, IVersion, Requester, Stage } from './api';
import { ICompareSide, compareCandidates, describeSide, orderSides, sideKey, storedRef } from './compare';
import { createDiffView } from './diffview';
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

/** The body of the Compare dialog: what to compare the chosen version with. */
class CompareWithBody extends Widget implements Dialog.IBodyWidget<string | null> {
  constructor(chosen: ICompareSide, candidates: ICompareSide[]) {
    super();
    this.addClass('jp-bookstore-CompareDialog');
    const intro = document.createElement('p');
    intro.textContent = `Compare the ${describeSide(chosen)} with:`;
    this._select = document.createElement('select');
    this._select.className = 'jp-mod-styled jp-bookstore-CompareWith';
    for (const side of candidates) {
      const option = document.createElement('option');
      option.value = sideKey(side);
      option.textContent = describeSide(side);
      this._select.appendChild(option);
    }
    const note = document.createElement('p');
    note.className = 'jp-bookstore-CompareDialog-note';
    note.textContent =
      'The older of the two is shown on the left. Load more in the panel to compare with older versions.';
    this.node.append(intro, this._select, note);
  }

  getValue(): string | null {
    return this._select.value || null;
  }

  private readonly _select: HTMLSelectElement;
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

    /**
     * Show a version or a comparison in a main-area tab. Notebook 7 shows one document per
     * page and keeps its main area for it: there the view opens in a large dialog instead.
     */
    const showView = (view: Widget) => {
      shell.add(view, 'main');
      if (view.isAttached) {
        shell.activateById(view.id);
        return;
      }
      const dialog = new Dialog({
        title: view.title.label,
        body: view,
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
      dialog.addClass('jp-bookstore-ViewDialog');
      void dialog.launch().then(() => view.dispose());
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
        showView(view);
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
      compare: async (path: string, stage: Stage, version: IVersion) => {
        const chosen: ICompareSide = { stage, version };
        // Offer both stages' versions, also the one the panel has not shown yet.
        await Promise.all(
          Object.values(model.histories).map(history => (history.state.loaded ? undefined : history.reload()))
        );
        const candidates = compareCandidates(chosen, {
          workspace: model.histories.workspace.state.versions,
          published: model.histories.published.state.versions
        });
        const answer = await showDialog({
          title: `Compare ${baseName(path)}`,
          body: new CompareWithBody(chosen, candidates),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Compare' })]
        });
        if (!answer.button.accept || answer.value === null) {
          return null;
        }
        const other = candidates.find(side => sideKey(side) === answer.value) ?? candidates[0];
        const [base, remote] = orderSides(chosen, other);
        // The saved notebook is the newest side, so the base is always a stored version.
        const baseRef = storedRef(base) ?? { stage, version_id: version.version_id };
        const diff = await client.diff(path, baseRef, storedRef(remote));
        const open = tracker.find(widget => localPath(widget) === path);
        const dirty = remote.version === null && (open?.context.model.dirty ?? false);
        const remoteLabel = describeSide(remote) + (dirty ? ' (unsaved changes not included)' : '');
        const view = await createDiffView({
          answer: diff,
          label: `${baseName(path)}: ${shortId(base.version?.version_id ?? null, 8)} ↔ ${
            remote.version === null ? 'saved' : shortId(remote.version.version_id, 8)
          }`,
          caption: `${path}\n${describeSide(base)}\n↔ ${describeSide(remote)}`,
          baseLabel: describeSide(base),
          remoteLabel,
          rendermime
        });
        showView(view);
        return null;
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
