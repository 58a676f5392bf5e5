/**
 * A notebook-aware comparison of two versions, opened in the main area: nbdime's diff
 * widget (cells added, removed and changed, outputs and metadata) under a header naming both
 * sides and summing up what changed.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import * as nbformat from '@jupyterlab/nbformat';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';
import type { IDiffEntry } from 'nbdime/lib/diff/diffentries';
import { NotebookDiffModel } from 'nbdime/lib/diff/model';
import { CELLDIFF_CLASS, NotebookDiffWidget } from 'nbdime/lib/diff/widget';
import { UNCHANGED_DIFF_CLASS } from 'nbdime/lib/diff/widget/common';

import { IDiffAnswer } from './api';
import { describeSummary, summarizeDiff, withoutMetadata } from './compare';
import { historyIcon } from './icons';

export interface IDiffViewOptions {
  answer: IDiffAnswer<unknown>;
  /** The tab's title, e.g. `mine.ipynb: 14:03 ↔ saved`. */
  label: string;
  /** The tab's tooltip: path and both sides in full. */
  caption: string;
  /** The left side (what it was), e.g. `save of 2026-11-26 14:03:12 (3f2a…)`. */
  baseLabel: string;
  /** The right side (what it became). */
  remoteLabel: string;
  rendermime: IRenderMimeRegistry;
}

const HIDE_UNCHANGED = 'jp-mod-hideUnchanged';

/**
 * nbdime's widget of the diff. nbdime (7.0.4) lays out some changes of metadata (keys removed
 * beside keys changed, as between a run Airflow made and one made by hand) past the end of the
 * text, and throws a RangeError: then the cells are compared without their metadata, and
 * `note` says so.
 */
async function diffWidget(options: IDiffViewOptions): Promise<{ widget: NotebookDiffWidget; note: string | null }> {
  const base = options.answer.base as unknown as nbformat.INotebookContent;
  const build = async (diff: unknown[]) => {
    const widget = new NotebookDiffWidget({
      model: new NotebookDiffModel(base, diff as IDiffEntry[]),
      rendermime: options.rendermime
    });
    try {
      await widget.init();
    } catch (error) {
      widget.dispose();
      throw error;
    }
    return widget;
  };
  try {
    return { widget: await build(options.answer.diff), note: null };
  } catch (error) {
    if (!(error instanceof RangeError)) {
      throw error;
    }
    return {
      widget: await build(withoutMetadata(options.answer.diff)),
      note: 'Metadata changes are not shown: nbdime could not lay them out.'
    };
  }
}

/** The header: both sides, what changed, and whether unchanged cells are shown. */
function header(options: IDiffViewOptions, note: string | null): Widget {
  const node = document.createElement('div');
  node.className = 'jp-bookstore-DiffView-header';
  const sides = document.createElement('div');
  sides.className = 'jp-bookstore-DiffView-sides';
  for (const [className, text] of [
    ['jp-bookstore-DiffView-base', options.baseLabel],
    ['jp-bookstore-DiffView-remote', options.remoteLabel]
  ]) {
    const side = document.createElement('span');
    side.className = className;
    side.textContent = text;
    side.title = text;
    sides.appendChild(side);
  }
  const controls = document.createElement('div');
  controls.className = 'jp-bookstore-DiffView-controls';
  const summary = document.createElement('span');
  summary.className = 'jp-bookstore-DiffView-summary';
  summary.textContent = describeSummary(summarizeDiff(options.answer.diff));
  const label = document.createElement('label');
  const toggle = document.createElement('input');
  toggle.type = 'checkbox';
  toggle.checked = true;
  toggle.className = 'jp-bookstore-DiffView-hideUnchanged';
  label.append(toggle, ' Hide unchanged cells');
  controls.append(summary);
  if (note !== null) {
    const left = document.createElement('span');
    left.className = 'jp-bookstore-DiffView-note';
    left.textContent = note;
    controls.append(left);
  }
  controls.append(label);
  node.append(controls, sides);
  return new Widget({ node });
}

/**
 * The comparison as a closable main-area tab. nbdime renders asynchronously: the widget is
 * returned once every cell is in place.
 */
export async function createDiffView(options: IDiffViewOptions): Promise<MainAreaWidget<Panel>> {
  const { widget: diff, note } = await diffWidget(options);

  const scroller = new Panel();
  scroller.addClass('nbdime-root');
  scroller.addClass('jp-bookstore-DiffView-scroller');
  scroller.addClass(HIDE_UNCHANGED);
  scroller.node.tabIndex = -1;
  scroller.addWidget(diff);
  markHiddenRanges(scroller.node);

  const content = new Panel();
  content.addClass('jp-bookstore-DiffView-content');
  const top = header(options, note);
  content.addWidget(top);
  content.addWidget(scroller);
  const toggle = top.node.querySelector('input') as HTMLInputElement;
  toggle.onchange = () => scroller.toggleClass(HIDE_UNCHANGED, toggle.checked);

  const widget = new MainAreaWidget({ content });
  widget.addClass('jp-bookstore-DiffView');
  widget.title.label = options.label;
  widget.title.caption = options.caption;
  widget.title.icon = historyIcon;
  widget.title.closable = true;
  return widget;
}

/**
 * Mark where unchanged cells are hidden, so that the view says how many (the same markers
 * nbdime's own JupyterLab view uses).
 */
function markHiddenRanges(root: HTMLElement): void {
  const cells = Array.from(root.querySelectorAll(`.${CELLDIFF_CLASS}`));
  let hiddenSince = -1;
  cells.forEach((cell, index) => {
    if (cell.classList.contains(UNCHANGED_DIFF_CLASS)) {
      if (hiddenSince === -1) {
        hiddenSince = index;
      }
      return;
    }
    if (hiddenSince !== -1) {
      cell.setAttribute('data-bookstore-hidden-before', String(index - hiddenSince));
      hiddenSince = -1;
    }
  });
  if (hiddenSince > 0) {
    cells[hiddenSince - 1].setAttribute('data-bookstore-hidden-after', String(cells.length - hiddenSince));
  } else if (hiddenSince === 0 && cells.length) {
    root.setAttribute('data-bookstore-all-hidden', String(cells.length));
  }
}
