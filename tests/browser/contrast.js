// Contrast as a reader sees it, computed in the page (tests/browser/test_contrast.py).
// The colour of a pixel is found by compositing, from the element up to the root, each
// ancestor's background colour and opacity over what its content paints, then the page's
// white canvas: so translucent backgrounds, faded (opacity) disabled buttons and coloured
// cards count. Background images are not read (the pages use none behind text).
(() => {
  // Colours are read as they end, not halfway through a transition.
  const still = document.createElement("style");
  still.textContent = "*, *::before, *::after { transition: none !important; animation: none !important; }";
  document.head.appendChild(still);
  const parse = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  // ``top`` painted over ``below`` (both [r, g, b, a], a in 0..1).
  const over = (top, below) => {
    const a = top[3] + below[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  // What a pixel painted ``colour`` inside ``el`` (above its own background) looks like.
  const onScreen = (el, colour) => {
    let pixel = colour;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      pixel = over(pixel, parse(style.backgroundColor));
      const opacity = Number(style.opacity);
      if (opacity < 1) pixel = [pixel[0], pixel[1], pixel[2], pixel[3] * opacity];
    }
    return over(pixel, [255, 255, 255, 1]);
  };
  const luminance = (rgb) => {
    const channel = (v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (rgb) => "#" + rgb.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) return false;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible") return false;
    for (let node = el; node; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.display === "none") return false;
      if (s.clip === "rect(0px, 0px, 0px, 0px)" || s.clipPath === "inset(50%)") return false;
      if (node !== el && s.overflow === "hidden") {
        const b = node.getBoundingClientRect();
        if (b.width < 2 || b.height < 2) return false;
      }
    }
    return true;
  };
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    if (el.classList.length) name += "." + [...el.classList].slice(0, 3).join(".");
    const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return `${name} «${text}»`;
  };
  const textContrast = (el) => {
    const style = getComputedStyle(el);
    const fg = onScreen(el, parse(style.color));
    const bg = onScreen(el, [0, 0, 0, 0]);
    return { ratio: ratio(fg, bg), fg: hex(fg), bg: hex(bg) };
  };
  const FIELDS = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea";
  // Every visible element that holds text of its own, buttons and fields included.
  const texts = () => {
    const found = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "svg", "OPTION"].includes(el.tagName)) continue;
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const field = el.matches(FIELDS) && (el.value || el.tagName === "SELECT");
      if ((own || field) && visible(el)) found.push(el);
    }
    return found;
  };
  // The focus indicator of the focused ``el``: the best contrast of its outline or of a
  // box-shadow against the background around the element (the parent's), and against
  // the element's own background for an inset or an outline drawn inside.
  const indicator = (el) => {
    const style = getComputedStyle(el);
    const around = onScreen(el.parentElement || el, [0, 0, 0, 0]);
    const inside = onScreen(el, [0, 0, 0, 0]);
    const found = [];
    const width = parseFloat(style.outlineWidth) || 0;
    if (style.outlineStyle !== "none" && width >= 1) {
      const offset = parseFloat(style.outlineOffset) || 0;
      const against = offset + width <= 0 ? inside : around;
      const colour = onScreen(el.parentElement || el, parse(style.outlineColor));
      found.push({ kind: `outline ${width}px`, ratio: ratio(colour, against), colour: hex(colour), against: hex(against) });
    }
    if (style.boxShadow && style.boxShadow !== "none") {
      for (const shadow of style.boxShadow.split(/,(?![^(]*\))/)) {
        const lengths = (shadow.replace(/rgba?\([^)]*\)/, "").match(/-?[\d.]+px/g) || []).map(parseFloat);
        const spread = lengths[3] || 0;
        if (spread < 1 && (lengths[2] || 0) < 2) continue;  // too thin to be seen
        const inset = /inset/.test(shadow);
        const against = inset ? inside : around;
        const colour = onScreen(inset ? el : el.parentElement || el, parse(shadow));
        found.push({ kind: `box-shadow ${spread}px`, ratio: ratio(colour, against), colour: hex(colour), against: hex(against) });
      }
    }
    found.sort((a, b) => b.ratio - a.ratio);
    return { element: describe(el), best: found[0] || null };
  };
  const focusable = () =>
    [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")]
      .filter((el) => !el.disabled);
  window.__contrast = {
    texts: (minimum) =>
      texts()
        .map((el) => ({ element: describe(el), ...textContrast(el) }))
        .filter((found) => found.ratio < minimum),
    textCount: () => texts().length,
    focused: () => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      return { ...indicator(el), text: textContrast(el) };
    },
    // Focus each focusable element as the keyboard would (focus-visible) and measure.
    allFocus: () => {
      const results = [];
      for (const el of focusable()) {
        el.focus({ focusVisible: true, preventScroll: true });
        if (document.activeElement !== el) continue;
        if (!visible(el) && !el.matches(".sr-only-focusable, .skip")) continue;
        results.push({ ...indicator(el), text: textContrast(el), visible: visible(el) });
      }
      document.activeElement && document.activeElement.blur();
      return results;
    },
  };
})();
