// @ts-check
// The lessons' pages, as main.js and frame.js see them: the definition each lesson exports
// (lessons/<id>/lesson.js) and the generic calls on the open lesson's page. A page implements
// any of the hooks below; a hook it lacks has the default of a lesson that adds nothing (the
// first lesson's behaviour). Only the open lesson's page is asked (the lesson is `s.lesson`),
// except for messages, which name their lesson.

/**
 * What every page is constructed with: the app's modules and a few views of its state.
 * - apply(patch): the store's apply, with a message instead of a throw on a bad value.
 * - count(): the number of drawn points; labels(): the labels of the points the exact field
 *   is made of (the training share while some are held out); catalog: the core's catalog.
 * @typedef {{ store: import('./store.js').Store, session: import('./session.js').Session,
 *   fields: any, training: import('./training.js').Training, chart: import('./chart.js').LossChart,
 *   cloud: import('./draw.js').Cloud, apply: (patch: Record<string, any>) => void,
 *   count: () => number, labels: () => Uint8Array, catalog: import('./state.js').Catalog }} PageApp
 */
/**
 * The patch a lesson makes to the network it trains (session.js's NetConfig).
 * @typedef {{ coupling?: string, labelled?: boolean }} NetworkPatch
 */
/**
 * A lesson's page module: constructed once, with the app; every hook is optional.
 * - particles(s): the particles the stage shows instead of the exact and learned ODE's.
 * - draw(now, s): per frame: the lesson's charts, tables and captions.
 * - facts(s): measured sentences its views' captions quote, keyed by name.
 * - inspectNote(hover): a sentence the inspector adds at the hovered point.
 * - network(s): its network's configuration patch while it is open (the default: independent,
 *   unlabelled); sharedNetwork(s): a patch its settings make to every lesson's network.
 * - brush(s): the class a stroke draws and the class the eraser takes (0: any).
 * - showsClasses(s): whether the drawing is shown in its classes' colours and shapes.
 * - hidesFit(s): whether the note on learned against exact particles is hidden.
 * - shows(s): the keys of the flows its stage shows (the flow worker computes them first).
 * - onMessage(m): a message of the workers for this lesson.
 * - onNetwork(why, config): the network was reset, cleared or replaced (every page is told).
 * - pythonUsage(s, name): how Python uses the exported network (its Python line).
 * - resetOnEdit(): why an edited drawing needs a fresh network (every page is asked), or null.
 * - measures(): its measures as plain data, for the test hook.
 * @typedef {{ particles?: (s: Record<string, any>) => import('./frame.js').LessonParticles | null,
 *   draw?: (now: number, s: Record<string, any>) => void,
 *   facts?: (s: Record<string, any>) => Record<string, string>,
 *   inspectNote?: (hover: any) => string,
 *   network?: (s: Record<string, any>) => NetworkPatch,
 *   sharedNetwork?: (s: Record<string, any>) => NetworkPatch,
 *   brush?: (s: Record<string, any>) => { label: number, only: number },
 *   showsClasses?: (s: Record<string, any>) => boolean,
 *   hidesFit?: (s: Record<string, any>) => boolean,
 *   shows?: (s: Record<string, any>) => string[],
 *   onMessage?: (m: any) => void,
 *   onNetwork?: (why: 'reset' | 'clear' | 'replace', config: import('./session.js').NetConfig | null) => void,
 *   resetOnEdit?: () => string | null,
 *   pythonUsage?: (s: Record<string, any>, name: string) => string,
 *   measures?: () => any }} LessonPage
 */
/**
 * A lesson's definition (the default export of lessons/<id>/lesson.js): its id (its folder's
 * name), its label in the lesson picker, its views and tour steps, its settings (entries of the
 * property table, made from the core's catalog) and its page module.
 * @typedef {{ id: string, label: string, views: import('./views.js').ViewEntry[],
 *   tour: import('./tour.js').Step[], settings?: (catalog: import('./state.js').Catalog) => import('./state.js').Props,
 *   Page?: new (app: PageApp) => LessonPage }} LessonDef
 */

/** The network of a lesson that patches nothing: independent pairs, no class labels. */
const NETWORK = { coupling: 'independent', labelled: false };
/** The brush of a lesson that patches nothing: strokes draw class 1, the eraser takes any point. */
const BRUSH = { label: 1, only: 0 };

export class LessonPages {
  /**
   * Constructs the page of every lesson that has one, in the registry's order.
   * @param {LessonDef[]} defs
   * @param {PageApp} app
   */
  constructor(defs, app) {
    /** @type {Map<string, LessonPage>} */
    this.pages = new Map();
    for (const d of defs) if (d.Page) this.pages.set(d.id, new d.Page(app));
    /** The names of each lesson's own settings. @type {Map<string, string[]>} */
    this.settingNames = new Map(defs.map((d) => [d.id, Object.keys(d.settings?.(app.catalog) ?? {})]));
  }

  /**
   * The open lesson's page (null when it has none).
   * @param {Record<string, any>} s
   */
  open(s) {
    return this.pages.get(s.lesson) ?? null;
  }

  /** @param {Record<string, any>} s */
  particles(s) {
    return this.open(s)?.particles?.(s) ?? null;
  }

  /**
   * The keys of the flows the open lesson's stage shows, or null when it shows the first
   * lesson's (the learned and exact ones).
   * @param {Record<string, any>} s
   * @returns {string[] | null}
   */
  shows(s) {
    return this.open(s)?.shows?.(s) ?? null;
  }

  /** @param {number} now @param {Record<string, any>} s */
  draw(now, s) {
    this.open(s)?.draw?.(now, s);
  }

  /** @param {Record<string, any>} s @returns {Record<string, string>} */
  facts(s) {
    return this.open(s)?.facts?.(s) ?? {};
  }

  /** @param {Record<string, any>} s @param {any} hover */
  inspectNote(s, hover) {
    return this.open(s)?.inspectNote?.(hover) ?? '';
  }

  /**
   * The network's configuration: the default, patched by every lesson's shared settings
   * (`sharedNetwork`: a coupling chosen in one lesson holds in the others), then by the open
   * lesson's own network (`network`).
   * @param {Record<string, any>} s
   * @returns {{ coupling: string, labelled: boolean }}
   */
  network(s) {
    const shared = [...this.pages.values()].map((p) => p.sharedNetwork?.(s));
    return Object.assign({ ...NETWORK }, ...shared, this.open(s)?.network?.(s));
  }

  /** @param {Record<string, any>} s */
  brush(s) {
    return this.open(s)?.brush?.(s) ?? BRUSH;
  }

  /** @param {Record<string, any>} s */
  showsClasses(s) {
    return this.open(s)?.showsClasses?.(s) ?? false;
  }

  /** @param {Record<string, any>} s */
  hidesFit(s) {
    return this.open(s)?.hidesFit?.(s) ?? false;
  }

  /**
   * The values of the open lesson's own settings, as one string: drawings that depend on
   * them (arrows, heatmaps) key their caches on it.
   * @param {Record<string, any>} s
   */
  settingsKey(s) {
    return (this.settingNames.get(s.lesson) ?? []).map((k) => String(s[k])).join('|');
  }

  /** The names of every lesson's own settings. */
  allSettingNames() {
    return [...this.settingNames.values()].flat();
  }

  /**
   * The network was replaced: every page is told (`onNetwork`), with the new network's
   * configuration (null: none).
   * @param {'reset' | 'clear' | 'replace'} why
   * @param {import('./session.js').NetConfig | null} config
   */
  onNetwork(why, config) {
    for (const page of this.pages.values()) page.onNetwork?.(why, config);
  }

  /**
   * How Python uses the exported network, if the open lesson says (else null).
   * @param {Record<string, any>} s
   * @param {string} name
   */
  pythonUsage(s, name) {
    return this.open(s)?.pythonUsage?.(s, name) ?? null;
  }

  /** Why an edited drawing needs a fresh network, if a page says so (else null). */
  resetOnEdit() {
    for (const page of this.pages.values()) {
      const why = page.resetOnEdit?.();
      if (why) return why;
    }
    return null;
  }

  /**
   * A message of the workers: to its lesson's page when it names one (`m.lesson`), else to
   * every page (each takes the types it knows).
   * @param {any} m
   */
  onMessage(m) {
    if (m.lesson !== undefined) this.pages.get(m.lesson)?.onMessage?.(m);
    else for (const page of this.pages.values()) page.onMessage?.(m);
  }

  /**
   * A message of the workers for the lesson `lesson` (to its page only).
   * @param {string} lesson
   * @param {any} m
   */
  toLesson(lesson, m) {
    this.pages.get(lesson)?.onMessage?.(m);
  }

  /**
   * A lesson's measures (null when it has no page or no measures).
   * @param {string} id
   */
  measures(id) {
    return this.pages.get(id)?.measures?.() ?? null;
  }

  /** The ids of the lessons whose pages have measures. */
  measured() {
    return [...this.pages.entries()].filter(([, p]) => p.measures).map(([id]) => id);
  }
}
