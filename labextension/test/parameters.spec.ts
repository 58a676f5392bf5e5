import { describe, expect, it } from 'vitest';

import { INotebookParameters, IParameter } from '../src/api';
import {
  HOW_TO_TAG,
  Tagging,
  describeParameters,
  sourceText,
  taggingOf,
  withParametersTag
} from '../src/parameters';

const REGION: IParameter = { name: 'region', type: 'str', default: '"EU"', help: 'sales region' };
const LIMIT: IParameter = { name: 'limit', type: 'int', default: '10', help: '' };

const answer = (overrides: Partial<INotebookParameters> = {}): INotebookParameters => ({
  path: 'analysis/sales.ipynb',
  cell: null,
  parameters: [],
  inspectable: true,
  untagged_cell: null,
  untagged_parameters: [],
  language: 'python',
  ...overrides
});

describe('The parameters a published notebook declares', () => {
  it('lists what the tagged cell declares, counting cells from 1, and offers no tagging', () => {
    const section = describeParameters(answer({ cell: 0, parameters: [REGION, LIMIT] }), 'ready');
    expect(section.level).toBe('ok');
    expect(section.text).toBe(
      'A run can set these parameters, which cell 1 (tagged parameters) declares; a run given none uses the defaults.'
    );
    expect(section.caption).toBe('Parameters');
    expect(section.parameters).toEqual([REGION, LIMIT]);
    expect(section.tagCell).toBeNull();
    expect(section.tagLabel).toBeNull();
    expect(section.hint).toBeNull();
  });

  it('speaks of one parameter in the singular', () => {
    expect(describeParameters(answer({ cell: 2, parameters: [REGION] }), 'not-open').text).toContain(
      'A run can set this parameter, which cell 3'
    );
  });

  it('warns that a tagged cell assigning nothing refuses every run given parameters', () => {
    const section = describeParameters(answer({ cell: 1 }), 'ready');
    expect(section.level).toBe('warning');
    expect(section.text).toBe(
      'Cell 2 is tagged parameters but assigns nothing, so a run given parameters will be refused. ' +
        'Assign the parameters in that cell, then publish again.'
    );
    expect(section.parameters).toEqual([]);
  });

  it('says when the names cannot be read in the notebook language', () => {
    const section = describeParameters(answer({ cell: 0, inspectable: false, language: 'R' }), 'ready');
    expect(section.level).toBe('info');
    expect(section.text).toContain('cell 1 is tagged parameters');
    expect(section.text).toContain('papermill cannot read assignments in R');
    expect(section.parameters).toEqual([]);
  });
});

describe('A published notebook with no cell tagged parameters', () => {
  const untagged = answer({ untagged_cell: 1, untagged_parameters: [REGION, LIMIT] });

  it('warns that a run given parameters will be refused, names the cell to tag, and offers to tag it', () => {
    const section = describeParameters(untagged, 'ready');
    expect(section.level).toBe('warning');
    expect(section.text).toContain('No cell is tagged parameters, so a run given parameters will be refused');
    expect(section.text).toContain('Cell 2 assigns region, limit: tag it parameters to declare them.');
    expect(section.caption).toBe('What cell 2 assigns');
    expect(section.parameters).toEqual([REGION, LIMIT]);
    expect(section.tagCell).toBe(1);
    expect(section.tagLabel).toBe('Tag cell 2 as parameters');
    expect(section.hint).toBe('Tag cell 2 as parameters tags it in the open notebook, saves it and publishes again.');
  });

  it.each<[Tagging, string]>([
    ['not-open', 'To tag it, open the notebook, '],
    ['differs', "The open notebook's cell 2 is not the one saved, so tag it by hand: "],
    ['chosen-save', 'This is a save chosen in the Version history. To tag cell 2 in the notebook, ']
  ])('says how to tag it by hand when it cannot (%s)', (tagging, start) => {
    const section = describeParameters(untagged, tagging);
    expect(section.tagCell).toBeNull();
    expect(section.tagLabel).toBeNull();
    expect(section.hint).toBe(`${start}${HOW_TO_TAG}, then save and publish again.`);
    expect(section.hint).toContain('Property Inspector (the gear icon in the right sidebar)');
    expect(section.parameters).toEqual([REGION, LIMIT]);
  });

  it('speaks of one assignment in the singular', () => {
    const section = describeParameters(answer({ untagged_cell: 0, untagged_parameters: [REGION] }), 'ready');
    expect(section.text).toContain('Cell 1 assigns region: tag it parameters to declare it.');
  });

  it('without a cell that only assigns values, says how to declare parameters, with nothing to tag', () => {
    const section = describeParameters(answer(), 'ready');
    expect(section.level).toBe('warning');
    expect(section.text).toContain('a run given parameters will be refused');
    expect(section.parameters).toEqual([]);
    expect(section.caption).toBeNull();
    expect(section.tagLabel).toBeNull();
    expect(section.hint).toBe(
      'To declare parameters, assign them in one cell, select it, open the Property Inspector (the gear icon ' +
        'in the right sidebar) and add the tag parameters under Cell Tags, then save and publish again.'
    );
  });
});

describe('Whether the dialog can tag the cell itself', () => {
  it('can when the open notebook has the saved cell', () => {
    expect(taggingOf(false, 'x = 1', 'x = 1')).toBe('ready');
  });

  it('cannot when the notebook is not open here', () => {
    expect(taggingOf(false, undefined, null)).toBe('not-open');
  });

  it('cannot when the open cell is not the saved one, or either is missing', () => {
    expect(taggingOf(false, 'x = 2', 'x = 1')).toBe('differs');
    expect(taggingOf(false, null, 'x = 1')).toBe('differs');
    expect(taggingOf(false, 'x = 1', null)).toBe('differs');
  });

  it('cannot when a save chosen in the Version history was published, even with the notebook open', () => {
    expect(taggingOf(true, 'x = 1', 'x = 1')).toBe('chosen-save');
    expect(taggingOf(true, undefined, null)).toBe('chosen-save');
  });
});

describe('Tagging a cell', () => {
  it('reads a source given as one string or as lines', () => {
    expect(sourceText('x = 1\ny = 2')).toBe('x = 1\ny = 2');
    expect(sourceText(['x = 1\n', 'y = 2'])).toBe('x = 1\ny = 2');
    expect(sourceText(undefined)).toBe('');
  });

  it('adds the tag to the cell tags, keeping the others, once', () => {
    expect(withParametersTag(undefined)).toEqual(['parameters']);
    expect(withParametersTag(['slow'])).toEqual(['slow', 'parameters']);
    expect(withParametersTag(['parameters', 'slow'])).toEqual(['parameters', 'slow']);
    expect(withParametersTag('not a list')).toEqual(['parameters']);
  });
});
