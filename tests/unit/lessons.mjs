// The lessons' parts that Node can load (no page module: those need a browser): each lesson's
// views and settings, found as the page finds them, by the registry and the folder convention
// (www/lessons/<id>/views.js, settings.js when the lesson has settings). The views table is
// registered as the page registers it; `propsOf(catalog)` builds the property table as the
// page does. The limits are the core's: its catalog() (the wasm build, loaded in Node) is
// installed as the page installs it.
import { existsSync, readFileSync } from 'node:fs';
import { initSync, catalog } from '../../www/pkg/fmp.js';
import { installLimits } from '../../www/limits.js';
import { LESSON_IDS } from '../../www/lessons/index.js';
import { registerViews, allViews } from '../../www/views.js';
import { buildProps } from '../../www/state.js';

initSync({ module: readFileSync(new URL('../../www/pkg/fmp_bg.wasm', import.meta.url)) });
/** The core's catalog (choices, defaults and the limits of every setting). */
export const CORE_CATALOG = JSON.parse(catalog());
installLimits(CORE_CATALOG.limits);

const folder = (id, file) => new URL(`../../www/lessons/${id}/${file}`, import.meta.url);

/** The lessons, in the registry's order: id, views, settings (or undefined). */
export const LESSONS = await Promise.all(LESSON_IDS.map(async (id) => ({
  id,
  views: (await import(folder(id, 'views.js'))).VIEWS,
  settings: existsSync(folder(id, 'settings.js')) ? (await import(folder(id, 'settings.js'))).default : undefined,
})));
registerViews(LESSONS);

/** The views table. */
export const VIEWS = allViews();

/** The property table of a catalog, with every lesson's settings. */
export function propsOf(catalog) {
  return buildProps(catalog, {
    views: VIEWS.map((v) => v.id), lessons: LESSONS.map((l) => l.id),
    settings: LESSONS.map((l) => l.settings?.(catalog) ?? {}),
  });
}
