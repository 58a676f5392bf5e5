/**
 * What the extension does with a version, in JupyterLab: read-only views and comparisons in
 * tabs (dialogs in Notebook 7), restores, publishing with its dialog, the clipboard.
 *
 * The model decides when an action runs and shows its outcome (model.ts); this module is the
 * part that needs JupyterLab's shell, dialogs and open notebooks.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { IEditorMimeTypeService } from '@jupyterlab/codeeditor';
import * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { BookstoreClient, INotebookParameters, IPublished, IVersion, Stage } from './api';
import { ICompareSide, compareCandidates, describeSide, orderSides, sideKey, storedRef } from './compare';
import { createDiffView } from './diffview';
import { baseName, describeTime, formatTime, versionTime } from './format';
import { INotice, describePublished } from './messages';
import { HistoryModel, IVersionActions } from './model';
import {
  IParametersSection,
  describeParameters,
  sourceText,
  taggingOf,
  withParametersTag
} from './parameters';
import { showPublished } from './publish';
import { createVersionView, showView } from './viewer';

export interface IVersionActionsOptions {
  app: JupyterFrontEnd;
  client: BookstoreClient;
  model: HistoryModel;
  tracker: INotebookTracker;
  rendermime: IRenderMimeRegistry;
  contentFactory: NotebookPanel.IContentFactory;
  mimeTypeService: IEditorMimeTypeService;
  /** The Jupyter path of an open notebook, as the REST API names it. */
  localPath(panel: NotebookPanel): string;
  /** Show the Version history panel, on `stage` when given. */
  showHistory(stage?: Stage): void;
  /** Called after each publication (the team's catalog lists it). */
  onPublished?(): void;
}

/** The body of the Compare dialog: what to compare the chosen version with. */
class CompareWithBody extends Widget implements Dialog.IBodyWidget<string | null> {
  constructor(chosen: string, candidates: { key: string; label: string }[]) {
    super();
    this.addClass('jp-bookstore-CompareDialog');
    const intro = document.createElement('p');
    intro.textContent = `Compare the ${chosen} with:`;
    this._select = document.createElement('select');
    this._select.className = 'jp-mod-styled jp-bookstore-CompareWith';
    for (const candidate of candidates) {
      const option = document.createElement('option');
      option.value = candidate.key;
      option.textContent = candidate.label;
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

/** The cell the Publish dialog offers to tag: cell `index` of an open notebook, and its saved source. */
interface ITagTarget {
  panel: NotebookPanel;
  index: number;
  source: string;
}

/** The code cell `index` of an open notebook; undefined when it has no such cell. */
function codeCellAt(panel: NotebookPanel, index: number) {
  const cells = panel.content.model?.cells;
  if (!cells || index < 0 || index >= cells.length) {
    return undefined;
  }
  const cell = cells.get(index);
  return cell.type === 'code' ? cell : undefined;
}

export class VersionActions implements IVersionActions {
  constructor(private readonly options: IVersionActionsOptions) {}

  async open(path: string, stage: Stage, version: IVersion): Promise<null> {
    const { client, model } = this.options;
    const content = (await client.notebook(path, stage, version.version_id)) as unknown;
    const when = describeTime(version);
    const view = createVersionView({
      content: content as nbformat.INotebookContent,
      label: `${baseName(path)} @ ${formatTime(versionTime(version))}`,
      caption: `${path}\n${stage} version ${version.version_id} of ${when} (read-only)`,
      description:
        `Read-only: the ${stage === 'published' ? 'published' : 'saved'} version of ${when} ` +
        `(${model.shortId(version.version_id)}) of ${path}`,
      rendermime: this.options.rendermime,
      contentFactory: this.options.contentFactory,
      mimeTypeService: this.options.mimeTypeService
    });
    this.show(view);
    return null;
  }

  async restoreCopy(path: string, stage: Stage, version: IVersion): Promise<string> {
    const versionId = version.version_id as string;
    const restored = await this.options.client.restore(path, { stage, version_id: versionId });
    await this.options.app.commands.execute('docmanager:open', { path: restored.path });
    return `Restored the version of ${describeTime(version)} as ${restored.path}.`;
  }

  async restoreOverwrite(path: string, stage: Stage, version: IVersion): Promise<string | null> {
    const { client, model } = this.options;
    const open = this.findOpen(path);
    const dirty = open?.context.model.dirty ?? false;
    const when = describeTime(version);
    const answer = await showDialog({
      title: `Replace ${baseName(path)}?`,
      body:
        `${path} will be replaced by the ${stage === 'published' ? 'published' : 'saved'} version of ` +
        `${when} (${model.shortId(version.version_id)}). ` +
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
  }

  async compare(path: string, stage: Stage, version: IVersion): Promise<null> {
    const { client, model } = this.options;
    const chosen: ICompareSide = { stage, version };
    // Offer both stages' versions, also the one the panel has not shown yet.
    await Promise.all(
      Object.values(model.histories).map(history => (history.state.loaded ? undefined : history.reload()))
    );
    const candidates = compareCandidates(chosen, {
      workspace: model.histories.workspace.state.items,
      published: model.histories.published.state.items
    });
    // Short ids as the panel shows them, so that a version reads the same in both.
    const ids = (versionId: string | null) => model.shortId(versionId);
    const describe = (side: ICompareSide) => describeSide(side, ids);
    const answer = await showDialog({
      title: `Compare ${baseName(path)}`,
      body: new CompareWithBody(
        describe(chosen),
        candidates.map(side => ({ key: sideKey(side), label: describe(side) }))
      ),
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
    const dirty = remote.version === null && (this.findOpen(path)?.context.model.dirty ?? false);
    const view = await createDiffView({
      answer: diff,
      label: `${baseName(path)}: ${ids(base.version?.version_id ?? null)} ↔ ${
        remote.version === null ? 'saved' : ids(remote.version.version_id)
      }`,
      caption: `${path}\n${describe(base)}\n↔ ${describe(remote)}`,
      baseLabel: describe(base),
      remoteLabel: describe(remote) + (dirty ? ' (unsaved changes not included)' : ''),
      rendermime: this.options.rendermime
    });
    this.show(view);
    return null;
  }

  publishVersion(path: string, version: IVersion): Promise<INotice> {
    return this.publish(path, version.version_id);
  }

  async copyId(version: IVersion): Promise<string> {
    const versionId = version.version_id as string;
    // JupyterLab's own Copy Path does the same: it also works where navigator.clipboard does
    // not (a server on plain http other than localhost).
    Clipboard.copyToSystem(versionId);
    return `Copied version id ${versionId} to the clipboard.`;
  }

  /**
   * Publish the notebook as saved at `path` (or its save `versionId`) and show the dialog.
   * When the server published nothing, the content being published already, the dialog says
   * so and can publish anyway. The dialog lists the published version's parameters; when no
   * cell is tagged `parameters` it can tag the cell that assigns them, save the notebook and
   * publish it again.
   */
  async publish(path: string, versionId: string | null = null): Promise<INotice> {
    const { client, model } = this.options;
    let published = await client.publish(path, { versionId });
    for (;;) {
      this.options.onPublished?.();
      if (published.path === model.path) {
        void model.histories.published.reload();
      }
      const id = model.shortId(published.version_id);
      const parameters = await this.parametersOf(path, published, versionId);
      const choice = await showPublished(published, id, parameters?.section ?? null);
      if (choice === 'publish-anyway') {
        published = await client.publish(path, { versionId, force: true });
        continue;
      }
      if (choice === 'tag-cell' && parameters?.target) {
        // Offered only when the notebook as saved was published (versionId is null).
        if (await this.tagCell(parameters.target)) {
          published = await client.publish(path);
        }
        // Otherwise the open cell changed under the dialog: it says how to tag it by hand now.
        continue;
      }
      if (choice === 'history') {
        this.options.showHistory('published');
      }
      return describePublished(published, id);
    }
  }

  /**
   * What the dialog shows of the parameters of the version just published and, when it can tag
   * the cell that assigns them, which cell that is in the open notebook. Null when the
   * parameters could not be read: publishing went well, so the dialog shows it without them.
   */
  private async parametersOf(
    path: string,
    published: IPublished,
    versionId: string | null
  ): Promise<{ section: IParametersSection; target: ITagTarget | null } | null> {
    let answer: INotebookParameters;
    try {
      answer = await this.options.client.parameters(path, {
        stage: 'published',
        versionId: published.version_id
      });
    } catch (error) {
      console.warn(`bookstore: could not read the parameters of ${path}`, error);
      return null;
    }
    const index = answer.untagged_cell;
    const panel = this.findOpen(path);
    // The cell to tag, in the open notebook (undefined when it is not open) and as saved.
    let open: string | null | undefined = undefined;
    let saved: string | null = null;
    if (index !== null && versionId === null && panel) {
      const cell = codeCellAt(panel, index);
      open = cell ? sourceText(cell.sharedModel.getSource()) : null;
      saved = await this.savedSource(panel, index);
    }
    const tagging = taggingOf(versionId !== null, open, saved);
    const target =
      tagging === 'ready' && panel && index !== null && saved !== null ? { panel, index, source: saved } : null;
    return { section: describeParameters(answer, tagging), target };
  }

  /** The source of code cell `index` of the notebook as saved in Jupyter; null when it has none. */
  private async savedSource(panel: NotebookPanel, index: number): Promise<string | null> {
    try {
      const saved = await this.options.app.serviceManager.contents.get(panel.context.path, {
        type: 'notebook',
        content: true
      });
      const cell = (saved.content as nbformat.INotebookContent | null)?.cells?.[index];
      return cell?.cell_type === 'code' ? sourceText(cell.source) : null;
    } catch (error) {
      console.warn(`bookstore: could not read the saved ${panel.context.path}`, error);
      return null;
    }
  }

  /**
   * Tag the cell `parameters` in the open notebook and save it, when the cell still has its
   * saved source; false when it has not.
   */
  private async tagCell(target: ITagTarget): Promise<boolean> {
    const { panel, index, source } = target;
    const cell = panel.isDisposed ? undefined : codeCellAt(panel, index);
    if (!cell || sourceText(cell.sharedModel.getSource()) !== source) {
      return false;
    }
    cell.setMetadata('tags', withParametersTag(cell.getMetadata('tags')));
    await panel.context.save();
    return true;
  }

  private show(view: Widget): void {
    showView(this.options.app.shell, view);
  }

  private findOpen(path: string): NotebookPanel | undefined {
    return this.options.tracker.find(widget => this.options.localPath(widget) === path);
  }
}
