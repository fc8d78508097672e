package render

// instrumentJS runs in the page's own world at the start of every
// document (every frame), before the page's scripts. It does not judge
// anything: it reports window.open calls (with the browser's own
// user-activation state and whether a timer callback made the call),
// answers dialogs without blocking, and shortens timers so that a
// pop-under scheduled for 30 s fires within the render's bounded wait.
// window.open returns null: the render never opens a second window (a
// pop-up would load an affiliate link, i.e. click it).
//
// It also says when the document has timers pending or CSS transitions
// and animations running ("busy": a timeout not yet run, an interval, a
// transition not yet ended) and when it has none left ("idle"), only on
// those transitions, so the render waits for the page instead of a fixed
// time — a banner fading in is judged once it has faded in. A page that
// flips too often stays "busy" for good and gets the whole bounded wait.
const instrumentJS = `(() => {
  if (window.__awInstalled) return;
  Object.defineProperty(window, '__awInstalled', {value: true});
  const report = window.__awReport, stringify = JSON.stringify, apply = Reflect.apply;
  let sent = 0, inTimer = 0;
  const send = (o, control) => {
    if (typeof report !== 'function' || (!control && sent >= 200)) return;
    if (!control) sent++;
    try { report(stringify(o)); } catch (e) {}
  };
  const gesture = () => !!(navigator.userActivation && navigator.userActivation.isActive);
  const MAX_DELAY = 150, MIN_INTERVAL = 50;
  window.open = function (u) {
    let url = '';
    try { url = String(u === undefined || u === null ? '' : u); url = new URL(url, location.href).href; } catch (e) {}
    send({k: 'open', url: url.slice(0, 2048), gesture: gesture(), timer: inTimer > 0, doc: String(location.href).slice(0, 2048)});
    return null;
  };
  const origEval = window.eval;
  // A timer's callback with the page's own this and arguments; a string
  // callback runs as the browser would run it, in the global scope.
  const callback = (fn, self, args) => typeof fn === 'function' ? apply(fn, self, args) : origEval(String(fn));
  // Plain objects, not Set: the page may redefine Set.prototype.
  const pending = Object.create(null), intervals = Object.create(null);
  let nPending = 0, nIntervals = 0, nMoving = 0, busy = false, flips = 0;
  const add = (m, id) => { if (!(id in m)) { m[id] = 1; return 1; } return 0; };
  const del = (m, id) => { if (id in m) { delete m[id]; return 1; } return 0; };
  const state = () => {
    const now = nPending > 0 || nIntervals > 0 || nMoving > 0;
    if (now === busy || flips > 200) return;
    busy = now;
    flips++;
    // Past the cap the last word is "busy": the render waits its bound.
    send({k: flips > 200 ? 'busy' : (now ? 'busy' : 'idle')}, true);
  };
  const origSetTimeout = window.setTimeout, origClearTimeout = window.clearTimeout;
  const origSetInterval = window.setInterval, origClearInterval = window.clearInterval;
  window.setTimeout = function (fn, d, ...rest) {
    const delay = Math.min(Number(d) || 0, MAX_DELAY);
    const id = apply(origSetTimeout, window, [function (...a) {
      nPending -= del(pending, id);
      inTimer++;
      try { return callback(fn, this, a); } finally { inTimer--; state(); }
    }, delay, ...rest]);
    nPending += add(pending, id);
    state();
    return id;
  };
  window.clearTimeout = function (id) {
    nPending -= del(pending, id);
    state();
    return apply(origClearTimeout, window, [id]);
  };
  window.setInterval = function (fn, d, ...rest) {
    const delay = Math.max(MIN_INTERVAL, Math.min(Number(d) || 0, MAX_DELAY));
    const id = apply(origSetInterval, window, [function (...a) {
      inTimer++;
      try { return callback(fn, this, a); } finally { inTimer--; }
    }, delay, ...rest]);
    nIntervals += add(intervals, id);
    state();
    return id;
  };
  window.clearInterval = function (id) {
    nIntervals -= del(intervals, id);
    state();
    return apply(origClearInterval, window, [id]);
  };
  // CSS transitions and animations, counted by their start and end
  // events (capture on the window: before the page's own listeners).
  const moving = (d) => function () { nMoving = Math.max(0, nMoving + d); state(); };
  for (const t of ['transitionrun', 'animationstart']) window.addEventListener(t, moving(1), true);
  for (const t of ['transitionend', 'transitioncancel', 'animationend', 'animationcancel']) window.addEventListener(t, moving(-1), true);
  const dialog = (type, ret) => function () { send({k: 'dialog', type: type}); return ret; };
  window.alert = dialog('alert', undefined);
  window.confirm = dialog('confirm', false);
  window.prompt = dialog('prompt', null);
  window.print = dialog('print', undefined);
})();`

// snapshotJS runs in an isolated world (pristine built-ins, the page's
// DOM): the page cannot redefine getComputedStyle to lie about what it
// hides. It returns a JSON string; every list is capped.
const snapshotJS = `(() => {
  const MAX_ELEMENTS = 300, MAX_TEXT = 60000, MAX_LINKS = 30, MAX_NODES_TEXT = 20000;
  const all = document.getElementsByTagName('*');
  const out = {url: String(location.href), title: String(document.title || '').slice(0, 1000), nodes: all.length,
    els: [], links: [], icons: [], logos: [], text: '', click: null, capped: false};
  const de = document.documentElement || {scrollWidth: 0, scrollHeight: 0};
  const vw = innerWidth, vh = innerHeight;
  const docW = Math.max(de.scrollWidth || 0, vw), docH = Math.max(de.scrollHeight || 0, vh);
  const desc = (e) => {
    let s = e.tagName.toLowerCase();
    if (e.id) s += '#' + e.id;
    if (typeof e.className === 'string' && e.className.trim()) s += '.' + e.className.trim().split(/\s+/).join('.');
    return s.slice(0, 200);
  };
  const vis = (el) => {
    const r = el.getBoundingClientRect();
    let hidden = '', by = '', op = 1, z = '';
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none') { hidden = 'display_none'; by = e === el ? 'self' : desc(e); break; }
      op *= parseFloat(cs.opacity || '1');
      if (op < 0.1 && !by) by = e === el ? 'self' : desc(e);
      if (!z && cs.zIndex !== 'auto') z = cs.zIndex;
      if (e !== el && cs.overflow !== 'visible') {
        const rr = e.getBoundingClientRect();
        if (rr.width < 3 || rr.height < 3) { hidden = 'clipped_by_ancestor'; by = desc(e); break; }
      }
    }
    const cs = getComputedStyle(el);
    if (!hidden && cs.visibility !== 'visible') {
      hidden = 'visibility_hidden'; by = 'self';
      for (let e = el.parentElement; e && getComputedStyle(e).visibility !== 'visible'; e = e.parentElement) by = desc(e);
    }
    if (!hidden && op < 0.1) hidden = 'opacity';
    if (!hidden) by = '';
    if (!hidden && (r.width < 3 || r.height < 3)) hidden = 'size_' + Math.round(r.width) + 'x' + Math.round(r.height);
    const ax = r.left + scrollX, ay = r.top + scrollY;
    if (!hidden && (ax + r.width <= 0 || ay + r.height <= 0 || ax >= docW || ay >= docH)) hidden = 'offscreen';
    if (!hidden && cs.clipPath && /inset\(\s*(50%|100%)|circle\(\s*0/.test(cs.clipPath)) hidden = 'clip_path';
    return {hidden: hidden, by: by, w: r.width, h: r.height, x: ax, y: ay, op: op, z: z};
  };
  const list = document.querySelectorAll('iframe,frame,img,embed,object');
  for (const el of list) {
    if (out.els.length >= MAX_ELEMENTS) { out.capped = true; break; }
    const tag = el.tagName.toLowerCase();
    let src = '';
    if (tag === 'img') src = el.currentSrc || el.src || '';
    else if (tag === 'object') src = el.data || '';
    else src = el.src || '';
    if (!/^https?:/i.test(src)) continue;
    const v = vis(el);
    v.tag = tag; v.src = src.slice(0, 2048);
    v.cls = typeof el.className === 'string' ? el.className.slice(0, 200) : '';
    v.snippet = el.outerHTML.slice(0, 400);
    out.els.push(v);
  }
  const seen = new Set();
  for (const a of document.querySelectorAll('a[href]')) {
    if (out.links.length >= MAX_LINKS) break;
    let u;
    try { u = new URL(a.getAttribute('href'), location.href); } catch (e) { continue; }
    if (u.origin !== location.origin || !/^https?:$/.test(u.protocol)) continue;
    u.hash = '';
    if (seen.has(u.href) || u.href === location.href) continue;
    seen.add(u.href);
    out.links.push(u.href);
  }
  for (const l of document.querySelectorAll('link[rel~="icon"],link[rel="apple-touch-icon"]')) {
    if (l.href && out.icons.length < 5) out.icons.push(l.href.slice(0, 2048));
  }
  for (const img of document.querySelectorAll('img')) {
    if (out.logos.length >= 3) break;
    const s = (img.className + ' ' + img.id + ' ' + img.alt + ' ' + img.src).toLowerCase();
    if (s.includes('logo') && img.complete && img.naturalWidth > 0) out.logos.push((img.currentSrc || img.src).slice(0, 2048));
  }
  out.refresh = [];
  for (const m of document.querySelectorAll('meta[http-equiv]')) {
    if (out.refresh.length >= 3 || m.httpEquiv.toLowerCase() !== 'refresh') continue;
    const c = m.content || '';
    const i = c.toLowerCase().indexOf('url=');
    if (i < 0) continue;
    try { out.refresh.push(new URL(c.slice(i + 4).trim().replace(/^['"]|['"]$/g, ''), location.href).href.slice(0, 2048)); } catch (e) {}
  }
  // innerText lays the page out; on a huge document textContent (no
  // layout) is the bounded fallback.
  const huge = all.length > MAX_NODES_TEXT || (document.body && document.body.textContent.length > 200000);
  if (document.body) out.text = String((huge ? document.body.textContent : document.body.innerText) || '').slice(0, MAX_TEXT);
  out.huge = huge;
  const interactive = 'a,button,input,select,textarea,label,summary,iframe,video,[onclick],[role=button],[contenteditable]';
  search:
  for (const fy of (huge ? [] : [0.55, 0.75, 0.35, 0.9, 0.2])) {
    for (const fx of [0.5, 0.25, 0.75, 0.1, 0.9]) {
      const x = Math.round(vw * fx), y = Math.round(vh * fy);
      const e = document.elementFromPoint(x, y);
      if (e && !e.closest(interactive)) { out.click = {x: x, y: y, on: desc(e)}; break search; }
    }
  }
  return JSON.stringify(out);
})()`
