/**
 * What the extension does with a colleague's published notebook, in JupyterLab: a read-only
 * view and a comparison in tabs (dialogs in Notebook 7), a copy into one's own files, the
 * clipboard, and a dialog with the publication's details.
 *
 * The catalog's model decides when an action runs and shows its outcome (catalog-model.ts);
 * this module is the part that needs JupyterLab's shell, dialogs and open notebooks.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { IEditorMimeTypeService } from '@jupyterlab/codeeditor';
import * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { BookstoreClient, ICatalogEntry } from './api';
import { CatalogModel, ICatalogActions, entryName } from './catalog-model';
import { createDiffView } from './diffview';
import { element } from './dom';
import { baseName, formatSize, formatTime } from './format';
import { catalogIcon } from './icons';
import { compareTargets, copyNotebook, dagSnippet } from './reuse';
import { createVersionView, showView } from './viewer';

export interface ICatalogActionsOptions {
  app: JupyterFrontEnd;
  client: BookstoreClient;
  model: CatalogModel;
  tracker: INotebookTracker;
  rendermime: IRenderMimeRegistry;
  contentFactory: NotebookPanel.IContentFactory;
  mimeTypeService: IEditorMimeTypeService;
  /** The Jupyter path of an open notebook, as the REST API names it. */
  localPath(panel: NotebookPanel): string;
}

/** The body of the Compare dialog: which of the user's notebooks, open ones offered first. */
class CompareWithMineBody extends Widget implements Dialog.IBodyWidget<string | null> {
  constructor(published: string, paths: string[], preferred: string | null) {
    super();
    this.addClass('jp-bookstore-CompareDialog');
    this._input = element('input', {
      type: 'text',
      class: 'jp-mod-styled jp-bookstore-CompareMine-path',
      placeholder: 'analysis/mine.ipynb',
      spellcheck: 'false'
    });
    this._input.value = preferred ?? '';
    const parts: (Node | string)[] = [element('p', {}, `Compare the ${published} (left) with your notebook (right):`)];
    if (paths.length) {
      const select = element('select', { class: 'jp-mod-styled jp-bookstore-CompareWith' });
      for (const path of paths) {
        const option = element('option', { value: path }, path);
        select.appendChild(option);
      }
      select.appendChild(element('option', { value: '' }, 'Another notebook (type its path below)'));
      select.value = preferred ?? '';
      select.onchange = () => {
        this._input.value = select.value;
        if (!select.value) {
          this._input.focus();
        }
      };
      this._input.oninput = () => {
        select.value = paths.includes(this._input.value.trim()) ? this._input.value.trim() : '';
      };
      parts.push(element('label', { class: 'jp-bookstore-CompareMine-label' }, 'Open notebooks', select));
    }
    parts.push(
      element('label', { class: 'jp-bookstore-CompareMine-label' }, 'Path of your notebook', this._input),
      element(
        'p',
        { class: 'jp-bookstore-CompareDialog-note' },
        'Your notebook is compared as saved: save it first to include unsaved edits.'
      )
    );
    this.node.append(...parts);
  }

  getValue(): string | null {
    return this._input.value.trim() || null;
  }

  private readonly _input: HTMLInputElement;
}

/** The body of the dialog when a copy's target exists: another name, or replace it. */
class CopyTargetBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(message: string, suggestion: string) {
    super();
    this.addClass('jp-bookstore-CopyDialog');
    this._input = element('input', {
      type: 'text',
      class: 'jp-mod-styled jp-bookstore-CopyDialog-path',
      spellcheck: 'false'
    });
    this._input.value = suggestion;
    this.node.append(
      element('p', {}, message.endsWith('.') ? message : `${message}.`),
      element('label', {}, 'Copy as', this._input),
      element(
        'p',
        { class: 'jp-bookstore-CompareDialog-note' },
        'Replace writes the published version over that file; what it holds now stays in its version history.'
      )
    );
  }

  getValue(): string {
    return this._input.value.trim();
  }

  private readonly _input: HTMLInputElement;
}

const REPLACE = 'Replace';
const COPY_SNIPPET = 'Copy DAG snippet';

export class CatalogActions implements ICatalogActions {
  constructor(private readonly options: ICatalogActionsOptions) {}

  async open(entry: ICatalogEntry): Promise<null> {
    const { client, model } = this.options;
    const content = (await client.published(entry.notebook_key, entry.version_id)) as unknown;
    const described = model.describe(entry);
    const view = createVersionView({
      content: content as nbformat.INotebookContent,
      label: `${entryName(entry)} @ ${formatTime(entry.last_modified)}`,
      caption: `${entry.notebook_key}\n${described}\nversion id ${entry.version_id} (read-only)`,
      description: `Read-only: ${entry.notebook_key}, ${described}`,
      rendermime: this.options.rendermime,
      contentFactory: this.options.contentFactory,
      mimeTypeService: this.options.mimeTypeService,
      icon: catalogIcon
    });
    showView(this.options.app.shell, view);
    return null;
  }

  /**
   * Copy into the user's files, in the folder it was in in its owner's notebooks, under a free
   * name; asking when a chosen name is taken; then open it.
   */
  async copy(entry: ICatalogEntry): Promise<string | null> {
    const { client, app, model } = this.options;
    const copied = await copyNotebook(client, entry, model.originalPath(entry), async (message, suggestion) => {
      const answer = await showDialog({
        title: `Copy ${baseName(entry.notebook_key)}`,
        body: new CopyTargetBody(message, suggestion),
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: REPLACE }), Dialog.okButton({ label: 'Copy' })],
        focusNodeSelector: '.jp-bookstore-CopyDialog-path'
      });
      if (answer.button.label === REPLACE) {
        return { overwrite: true };
      }
      return answer.button.accept && answer.value ? { targetPath: answer.value } : null;
    });
    if (copied === null) {
      return null;
    }
    await app.commands.execute('docmanager:open', { path: copied.path });
    return `Copied ${entryName(entry)} into ${copied.path}: yours to edit.`;
  }

  /** Compare the listed version (left) with one of the user's notebooks as saved (right). */
  async compare(entry: ICatalogEntry): Promise<null> {
    const { client, model, tracker, localPath } = this.options;
    const open: string[] = [];
    tracker.forEach(panel => open.push(localPath(panel)));
    const current = tracker.currentWidget ? localPath(tracker.currentWidget) : null;
    const { paths, preferred } = compareTargets(entry, open, current);
    const described = `${model.describe(entry)} of ${entry.notebook_key}`;
    const answer = await showDialog({
      title: `Compare ${entryName(entry)} with my notebook`,
      body: new CompareWithMineBody(described, paths, preferred),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Compare' })],
      focusNodeSelector: paths.length ? 'select' : 'input'
    });
    if (!answer.button.accept || answer.value === null) {
      return null;
    }
    const path = answer.value;
    const diff = await client.diffWithPublished(path, {
      notebook_key: entry.notebook_key,
      version_id: entry.version_id
    });
    const dirty = tracker.find(panel => localPath(panel) === path)?.context.model.dirty ?? false;
    const view = await createDiffView({
      answer: diff,
      label: `${entryName(entry)} ↔ ${baseName(path)}`,
      caption: `${entry.notebook_key}, ${model.describe(entry)}\n↔ ${path} as saved now`,
      baseLabel: `${entry.notebook_key}, ${model.describe(entry)}`,
      remoteLabel: `${path} as saved now` + (dirty ? ' (unsaved changes not included)' : ''),
      rendermime: this.options.rendermime
    });
    view.title.icon = catalogIcon;
    showView(this.options.app.shell, view);
    return null;
  }

  async copyKey(entry: ICatalogEntry): Promise<string> {
    // As JupyterLab's own Copy Path: it also works where navigator.clipboard does not.
    Clipboard.copyToSystem(entry.notebook_key);
    return `Copied notebook_key ${entry.notebook_key} to the clipboard.`;
  }

  async copyId(entry: ICatalogEntry): Promise<string> {
    const versionId = entry.version_id as string;
    Clipboard.copyToSystem(versionId);
    return `Copied version id ${versionId} to the clipboard.`;
  }

  async copySnippet(entry: ICatalogEntry): Promise<string> {
    Clipboard.copyToSystem(dagSnippet(entry));
    return (
      `Copied the DAG line that runs ${entryName(entry)} at version ` +
      `${this.options.model.shortId(entry.version_id)} to the clipboard: PublishedNotebookOperator(...).`
    );
  }

  /** Who published it and when, its keys and version, and the DAG line that runs it. */
  async details(entry: ICatalogEntry): Promise<string | null> {
    const { model } = this.options;
    const row = model.row(entry);
    const field = (term: string, ...value: (Node | string)[]) => [element('dt', {}, term), element('dd', {}, ...value)];
    const code = (text: string) => element('code', {}, text);
    const body = element(
      'div',
      { class: 'jp-bookstore-Published jp-bookstore-CatalogDetails' },
      element(
        'dl',
        {},
        ...field('notebook_key', code(entry.notebook_key)),
        ...field('Owner', entry.owner ?? 'not named by the key'),
        ...field('Published', `${row.time}${row.age ? ` (${row.age})` : ''}`),
        ...field('Published by', entry.published_by || 'not recorded'),
        ...field('Version id', code(entry.version_id ?? 'null')),
        ...field('Size', formatSize(entry.size)),
        ...field('Key in the bucket', code(entry.key))
      ),
      element('label', {}, 'In a DAG'),
      element('pre', { class: 'jp-bookstore-CatalogDetails-snippet' }, dagSnippet(entry))
    );
    const answer = await showDialog({
      title: entryName(entry),
      body: new Widget({ node: body }),
      buttons: [Dialog.createButton({ label: COPY_SNIPPET }), Dialog.okButton({ label: 'Close' })]
    });
    return answer.button.label === COPY_SNIPPET ? this.copySnippet(entry) : null;
  }
}
