import { LabIcon } from '@jupyterlab/ui-components';

/** An arrow out of a tray: publish. */
export const publishIcon = new LabIcon({
  name: 'notebook-bookstore:publish',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M11 16V7.85l-2.6 2.6L7 9l5-5 5 5-1.4 1.45-2.6-2.6V16h-2Zm-5 4q-.825 0-1.412-.587Q4 18.825 4 18v-3h2v3h12v-3h2v3q0 .825-.587 1.413Q18.825 20 18 20H6Z"/>' +
    '</svg>'
});

/** A clock with a back arrow: version history. */
export const historyIcon = new LabIcon({
  name: 'notebook-bookstore:history',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M12 21q-3.45 0-6.012-2.288Q3.425 16.425 3.05 13H5.1q.35 2.6 2.312 4.3Q9.375 19 12 19q2.925 0 4.962-2.038Q19 14.925 19 12t-2.038-4.963Q14.925 5 12 5q-1.725 0-3.225.8T6.25 8H9v2H3V4h2v2.35q1.275-1.6 3.113-2.475Q9.95 3 12 3q1.875 0 3.513.712 1.637.713 2.85 1.926 1.212 1.212 1.925 2.85Q21 10.125 21 12t-.712 3.512q-.713 1.638-1.925 2.85-1.213 1.213-2.85 1.926Q13.875 21 12 21Zm2.8-4.8L11 12.4V7h2v4.6l3.2 3.2-1.4 1.4Z"/>' +
    '</svg>'
});

/** Books on a shelf: the team's published notebooks. */
export const catalogIcon = new LabIcon({
  name: 'notebook-bookstore:catalog',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 6H2v14c0 1.1.9 2 2 2h14v-2H4V6zm16-4H8c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zm-1 9H9V9h10v2zm-4 4H9v-2h6v2zm4-8H9V5h10v2z"/>' +
    '</svg>'
});

/** A calendar with a clock: schedule a published notebook. */
export const scheduleIcon = new LabIcon({
  name: 'notebook-bookstore:schedule',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M5 22q-.825 0-1.413-.587Q3 20.825 3 20V6q0-.825.587-1.412Q4.175 4 5 4h1V2h2v2h8V2h2v2h1q.825 0 1.413.588Q21 5.175 21 6v5h-2V10H5v10h6v2H5Zm12.5 1q-2.075 0-3.537-1.463Q12.5 20.075 12.5 18t1.463-3.538Q15.425 13 17.5 13t3.538 1.462Q22.5 15.925 22.5 18q0 2.075-1.462 3.537Q19.575 23 17.5 23Zm1.675-2.625.7-.7-1.875-1.875V15H17v3.2l2.175 2.175ZM5 8h14V6H5v2Zm0 0V6v2Z"/>' +
    '</svg>'
});
