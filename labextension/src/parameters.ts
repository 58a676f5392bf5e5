/**
 * What the Publish dialog says of the published notebook's parameters: the names, types,
 * defaults and help its cell tagged `parameters` declares, or, when no cell is tagged, that a
 * run given parameters will be refused and which cell to tag.
 *
 * Pure, so the unit tests reach it: publish.ts shows the section, actions.ts tags the cell.
 */
import { INotebookParameters, IParameter } from './api';
import { Level } from './messages';

/** The cell tag papermill injects a run's parameters after. */
export const PARAMETERS_TAG = 'parameters';

/** How a person tags the selected cell, in JupyterLab and Notebook 7. */
const ADD_THE_TAG =
  'open the Property Inspector (the gear icon in the right sidebar) and add the tag ' +
  `${PARAMETERS_TAG} under Cell Tags`;

/** How a person tags a cell. */
export const HOW_TO_TAG = `select the cell, ${ADD_THE_TAG}`;

/**
 * Whether the dialog can tag the cell itself: `ready` when the notebook is open here and its
 * cell is the one the server read; otherwise why not (`not-open`; `differs`: the open
 * notebook's cell is not the saved one; `chosen-save`: a save chosen in the Version history
 * was published, not the notebook as saved).
 */
export type Tagging = 'ready' | 'not-open' | 'differs' | 'chosen-save';

/** The parameters section of the Publish dialog. */
export interface IParametersSection {
  level: Level;
  /** What the notebook declares, or what is wrong and what a run given parameters meets. */
  text: string;
  /** What the list below shows; null when there is no list. */
  caption: string | null;
  /** The declared parameters, or, with no tagged cell, what the cell to tag assigns. */
  parameters: IParameter[];
  /** The cell (index from 0) the dialog offers to tag; null when it does not. */
  tagCell: number | null;
  /** The label of the button that tags it. */
  tagLabel: string | null;
  /** What the button does, or how to tag the cell by hand. */
  hint: string | null;
}

/** Cell `index` (from 0) as a person counts cells: from 1. */
function cellName(index: number): string {
  return `cell ${index + 1}`;
}

function names(parameters: IParameter[]): string {
  return parameters.map(parameter => parameter.name).join(', ');
}

/** The label of the button that tags cell `index` (from 0). */
export function tagLabel(index: number): string {
  return `Tag ${cellName(index)} as ${PARAMETERS_TAG}`;
}

/**
 * The parameters section for what the server read in the published version (`answer`);
 * `tagging` says whether the dialog can tag the untagged cell itself (it matters only when the
 * server found one).
 */
export function describeParameters(answer: INotebookParameters, tagging: Tagging): IParametersSection {
  const none = { caption: null, parameters: [], tagCell: null, tagLabel: null, hint: null };
  if (answer.cell !== null) {
    const cell = cellName(answer.cell);
    if (!answer.inspectable) {
      return {
        ...none,
        level: 'info',
        text:
          `Parameters: ${cell} is tagged ${PARAMETERS_TAG}. papermill cannot read assignments in ` +
          `${answer.language}, so the names a run is given are not checked.`
      };
    }
    if (answer.parameters.length === 0) {
      return {
        ...none,
        level: 'warning',
        text:
          `${capitalise(cell)} is tagged ${PARAMETERS_TAG} but assigns nothing, so a run given parameters ` +
          'will be refused. Assign the parameters in that cell, then publish again.'
      };
    }
    return {
      ...none,
      level: 'ok',
      text:
        `A run can set ${answer.parameters.length === 1 ? 'this parameter' : 'these parameters'}, ` +
        `which ${cell} (tagged ${PARAMETERS_TAG}) declares; a run given none uses the defaults.`,
      caption: 'Parameters',
      parameters: answer.parameters
    };
  }
  const refused =
    `No cell is tagged ${PARAMETERS_TAG}, so a run given parameters will be refused: papermill would ` +
    "put them above the notebook's own code, which would set them back.";
  if (answer.untagged_cell === null) {
    return {
      ...none,
      level: 'warning',
      text: refused,
      hint: `To declare parameters, assign them in one cell, select it, ${ADD_THE_TAG}, then save and publish again.`
    };
  }
  const cell = cellName(answer.untagged_cell);
  const assigned = answer.untagged_parameters;
  const section: IParametersSection = {
    ...none,
    level: 'warning',
    text: `${refused} ${capitalise(cell)} assigns ${names(assigned)}: tag it ${PARAMETERS_TAG} to declare ${
      assigned.length === 1 ? 'it' : 'them'
    }.`,
    caption: `What ${cell} assigns`,
    parameters: assigned
  };
  switch (tagging) {
    case 'ready':
      return {
        ...section,
        tagCell: answer.untagged_cell,
        tagLabel: tagLabel(answer.untagged_cell),
        hint: `${tagLabel(answer.untagged_cell)} tags it in the open notebook, saves it and publishes again.`
      };
    case 'not-open':
      return {
        ...section,
        hint: `To tag it, open the notebook, ${HOW_TO_TAG}, then save and publish again.`
      };
    case 'differs':
      return {
        ...section,
        hint:
          `The open notebook's ${cell} is not the one saved, so tag it by hand: ${HOW_TO_TAG}, ` +
          'then save and publish again.'
      };
    case 'chosen-save':
      return {
        ...section,
        hint:
          `This is a save chosen in the Version history. To tag ${cell} in the notebook, ${HOW_TO_TAG}, ` +
          'then save and publish again.'
      };
  }
}

/**
 * Whether the dialog can tag the untagged cell itself. `chosenSave`: a save chosen in the
 * Version history was published (publishing again would publish the notebook as saved
 * instead); `openSource`: the open notebook's code cell at that index (undefined when the
 * notebook is not open, null when it has no such code cell); `savedSource`: the same cell of
 * the notebook as saved in Jupyter (null when it has none or could not be read).
 */
export function taggingOf(
  chosenSave: boolean,
  openSource: string | null | undefined,
  savedSource: string | null
): Tagging {
  if (chosenSave) {
    return 'chosen-save';
  }
  if (openSource === undefined) {
    return 'not-open';
  }
  return openSource !== null && savedSource !== null && openSource === savedSource ? 'ready' : 'differs';
}

/** A cell's source as one string: nbformat allows a list of lines. */
export function sourceText(source: unknown): string {
  if (Array.isArray(source)) {
    return source.join('');
  }
  return typeof source === 'string' ? source : '';
}

/** A cell's tags with `parameters` added (a cell without tags has `undefined`). */
export function withParametersTag(tags: unknown): string[] {
  const list = Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
  return list.includes(PARAMETERS_TAG) ? list : [...list, PARAMETERS_TAG];
}

function capitalise(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
