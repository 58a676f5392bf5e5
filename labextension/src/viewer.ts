/** A read-only view of one stored version, and how a view is shown (a tab, or a dialog in Notebook 7). */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, MainAreaWidget } from '@jupyterlab/apputils';
import { IEditorMimeTypeService } from '@jupyterlab/codeeditor';
import * as nbformat from '@jupyterlab/nbformat';
import { NotebookModel, NotebookPanel, StaticNotebook } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { historyIcon } from './icons';

export interface IVersionViewOptions {
  content: nbformat.INotebookContent;
  /** The tab's title, e.g. `mine.ipynb @ 2026-11-26 14:03:12`. */
  label: string;
  /** The tab's tooltip: path, stage and full version id. */
  caption: string;
  /** What the toolbar says about the version, e.g. `Read-only: saved version of ...`. */
  description: string;
  rendermime: IRenderMimeRegistry;
  contentFactory: NotebookPanel.IContentFactory;
  mimeTypeService: IEditorMimeTypeService;
  /** The tab's icon; the Version history's by default. */
  icon?: LabIcon;
}

/**
 * A notebook widget that renders the version's cells and outputs and cannot be edited.
 * It is not a document: nothing in it can be saved over the version or the notebook.
 */
export function createVersionView(options: IVersionViewOptions): MainAreaWidget<StaticNotebook> {
  const model = new NotebookModel();
  model.fromJSON(options.content);
  model.readOnly = true;
  const notebook = new StaticNotebook({
    rendermime: options.rendermime,
    contentFactory: options.contentFactory,
    mimeTypeService: options.mimeTypeService,
    // Render every cell at once: a view is read top to bottom and searched with the browser.
    notebookConfig: { ...StaticNotebook.defaultNotebookConfig, windowingMode: 'none' }
  });
  notebook.model = model;
  for (const cell of notebook.widgets) {
    cell.readOnly = true;
  }
  notebook.addClass('jp-bookstore-VersionView-notebook');
  const widget = new MainAreaWidget({ content: notebook });
  widget.addClass('jp-bookstore-VersionView');
  widget.title.label = options.label;
  widget.title.caption = options.caption;
  widget.title.icon = options.icon ?? historyIcon;
  widget.title.closable = true;
  const label = new Widget();
  label.addClass('jp-bookstore-VersionView-label');
  label.node.textContent = options.description;
  widget.toolbar.addItem('bookstore-version', label);
  widget.disposed.connect(() => model.dispose());
  return widget;
}

/**
 * Show a version or a comparison in a main-area tab. Notebook 7 shows one document per page
 * and keeps its main area for it: there the view opens in a large dialog instead.
 */
export function showView(shell: JupyterFrontEnd.IShell, view: Widget): void {
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
}
