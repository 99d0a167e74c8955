// @ts-check
// The keyboard: Space trains, T plays time, V cycles the field view, Ctrl+Z (Cmd+Z) undoes.
// Keys do nothing while focus is in a control (typing, choosing, pressing a button).

/**
 * @param {{ toggleTraining: () => void, toggleTime: () => void, nextView: () => void, undo: () => void }} actions
 */
export function attachKeys(actions) {
  document.addEventListener('keydown', (ev) => {
    const tag = /** @type {HTMLElement} */ (ev.target).tagName;
    const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON';
    if (typing) return;
    if (ev.key === ' ') { ev.preventDefault(); actions.toggleTraining(); }
    else if (ev.key === 't' || ev.key === 'T') actions.toggleTime();
    else if (ev.key === 'v' || ev.key === 'V') actions.nextView();
    else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'z') { ev.preventDefault(); actions.undo(); }
  });
}
