// The ovnts page: draws the topology the server pushes (server-sent events,
// one `topology` event per coalesced NB/SB change), laid out by ELK, and the
// answer of the server's trace engine. Plain browser JavaScript, no build step.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const CHAR_W = 7.3; // DejaVu Sans Mono at 12px
const LINE_H = 15;
const PAD = 8;

/** The latest topology, and layouts run one at a time with only the newest one waiting. */
const state = { topology: null, seq: -1, laying: false, pending: null, path: null };
const elk = new ELK();

// --- Topology → ELK graph -------------------------------------------------

function textWidth(lines) {
  return Math.max(...lines.map((l) => l.length)) * CHAR_W + 2 * PAD;
}

/** A port's state class: up (NB up and SB up), bound (on a chassis, not up yet), down, disabled. */
function portState(p) {
  if (!p.enabled) return 'disabled';
  if (p.up === true && (p.installed || p.type !== '')) return 'up';
  if (p.chassis !== undefined && p.chassis !== null) return 'bound';
  return 'down';
}

function portLines(p) {
  const lines = [p.name];
  if (p.type !== '') lines.push(`type ${p.type}${p.routerPort ? ` → ${p.routerPort}` : ''}`);
  for (const m of p.macs) lines.push(m);
  if (p.ips.length > 0) lines.push(p.ips.join(' '));
  if (p.chassis) lines.push(`on ${p.chassis}`);
  return lines;
}

/**
 * A compound's children have no edges among them: ELK's rectangle packing
 * sets them in rows (fast, and a switch of many ports stays readable), below
 * the compound's own label lines.
 */
function packed(head, minWidth, pad) {
  return {
    'elk.algorithm': 'rectpacking',
    'elk.padding': `[top=${head + 6},left=${pad},bottom=${pad},right=${pad}]`,
    'elk.spacing.nodeNode': '12',
    'elk.aspectRatio': '2.2',
    'elk.nodeSize.minimum': `(${minWidth}, ${head})`,
    'elk.nodeSize.constraints': 'MINIMUM_SIZE',
  };
}

function portNode(p) {
  const lines = portLines(p);
  // Room for the tag badge on the title line.
  const w = Math.max(textWidth(lines) + (p.tag !== undefined ? 96 : 20), 120);
  const head = lines.length * LINE_H + 2 * PAD;
  const node = { id: `lsp/${p.name}`, data: { kind: 'port', port: p, lines } };
  if (p.children.length > 0) {
    node.children = p.children.map(portNode);
    node.layoutOptions = packed(head, w, 12);
  } else {
    node.width = w;
    node.height = head;
  }
  return node;
}

function graphOf(t) {
  const children = [];
  const edges = [];
  for (const r of t.routers) {
    const lines = [`router ${r.name}`, ...r.ports.map((p) => `${p.name} ${p.networks.join(' ')}`)];
    children.push({ id: `lr/${r.name}`, width: textWidth(lines), height: lines.length * LINE_H + 2 * PAD, data: { kind: 'router', router: r, lines } });
  }
  for (const s of t.switches) {
    const lines = [`switch ${s.name}`, ...(s.subnets.length > 0 ? [s.subnets.join(' ')] : [])];
    const head = lines.length * LINE_H + 2 * PAD;
    children.push({
      id: `ls/${s.name}`,
      data: { kind: 'switch', sw: s, lines },
      children: s.ports.map(portNode),
      layoutOptions: packed(head, textWidth(lines), 14),
    });
  }
  // ELK places routers and switches by the links between them; the line itself ends at the switch's router port.
  for (const l of t.links)
    edges.push({ id: `link/${l.switchPort}`, sources: [`lr/${l.routerName}`], targets: [`ls/${l.switchName}`], data: l });
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'SEPARATE_CHILDREN',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.padding': '[top=20,left=20,bottom=20,right=20]',
    },
    children,
    edges,
  };
}

// --- Drawing --------------------------------------------------------------

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function drawLines(g, lines, x, y, firstClass) {
  lines.forEach((l, i) => {
    const t = el('text', { x, y: y + (i + 1) * LINE_H - 3, class: i === 0 ? firstClass : 'sub' }, g);
    t.textContent = l;
  });
}

/** Draws an ELK node (already laid out) and its children inside its own <g>; records absolute boxes. */
function drawNode(n, parent, ox, oy, boxes) {
  const d = n.data;
  const ax = ox + n.x;
  const ay = oy + n.y;
  boxes.set(n.id, { x: ax, y: ay, w: n.width, h: n.height });
  const attrs = { transform: `translate(${n.x},${n.y})` };
  if (d.kind === 'router') Object.assign(attrs, { class: 'node router', 'data-kind': 'router', 'data-name': d.router.name });
  if (d.kind === 'switch')
    Object.assign(attrs, { class: 'node switch', 'data-kind': 'switch', 'data-name': d.sw.name, 'data-subnets': d.sw.subnets.join(' ') });
  if (d.kind === 'port') {
    const p = d.port;
    const st = portState(p);
    Object.assign(attrs, {
      class: `node port state-${st}${p.children.length > 0 ? ' vm' : ''}`,
      'data-kind': 'port',
      'data-name': p.name,
      'data-type': p.type,
      'data-mac': p.macs.join(' '),
      'data-ips': p.ips.join(' '),
      'data-tag': p.tag,
      'data-parent': p.parent,
      'data-chassis': p.chassis,
      'data-up': String(p.up === true),
      'data-installed': String(p.installed),
      'data-state': st,
    });
  }
  const g = el('g', attrs, parent);
  el('rect', { width: n.width, height: n.height, rx: d.kind === 'router' ? 10 : 5 }, g);
  drawLines(g, d.lines, PAD, PAD, 'title');
  if (d.kind === 'port') {
    const p = d.port;
    el('circle', { class: 'state', cx: n.width - 10, cy: 12, r: 5 }, g);
    if (p.tag !== undefined) {
      const label = `vlan ${p.tag}`;
      const tw = label.length * CHAR_W + 12;
      const tg = el('g', { class: 'tag', transform: `translate(${n.width - tw - 22},4)` }, g);
      el('rect', { width: tw, height: 16, rx: 8 }, tg);
      el('text', { x: 6, y: 12 }, tg).textContent = label;
    }
  }
  for (const c of n.children ?? []) drawNode(c, g, ax, ay, boxes);
}

function render(layout) {
  const svg = document.getElementById('topology');
  svg.replaceChildren();
  svg.setAttribute('width', layout.width);
  svg.setAttribute('height', layout.height);
  const boxes = new Map();
  const nodes = el('g', { class: 'nodes' });
  for (const n of layout.children ?? []) drawNode(n, nodes, 0, 0, boxes);
  svg.appendChild(nodes);
  // Router links as straight lines from the router to the switch's router port (over the switch's box).
  const links = el('g', { class: 'links' }, svg);
  for (const e of layout.edges ?? []) {
    const a = boxes.get(e.sources[0]);
    const b = boxes.get(`lsp/${e.data.switchPort}`);
    if (!a || !b) continue;
    const below = b.y >= a.y + a.h;
    el(
      'line',
      {
        class: 'link',
        'data-router': e.data.routerName,
        'data-router-port': e.data.routerPort,
        'data-switch-port': e.data.switchPort,
        x1: a.x + a.w / 2,
        y1: below ? a.y + a.h : a.y,
        x2: b.x + b.w / 2,
        y2: below ? b.y : b.y + b.h,
      },
      links,
    );
  }
  markPath();
}

function renderChassis(t) {
  const list = document.getElementById('chassis-list');
  list.replaceChildren();
  for (const c of t.chassis) {
    const li = document.createElement('li');
    li.dataset.chassisName = c.name;
    li.innerHTML = '<b></b> <span class="sub"></span><ul></ul>';
    li.querySelector('b').textContent = c.name;
    li.querySelector('span').textContent = c.hostname ? `(${c.hostname})` : '';
    for (const p of c.ports) {
      const pi = document.createElement('li');
      pi.dataset.port = p;
      pi.textContent = p;
      li.querySelector('ul').appendChild(pi);
    }
    list.appendChild(li);
  }
}

async function relayout() {
  if (state.laying) return;
  state.laying = true;
  try {
    while (state.pending !== null) {
      const { topology, seq } = state.pending;
      state.pending = null;
      const t0 = performance.now();
      const layout = await elk.layout(graphOf(topology));
      render(layout);
      renderChassis(topology);
      fillPorts(topology);
      const status = document.getElementById('status');
      status.dataset.seq = String(seq);
      status.dataset.layoutMs = (performance.now() - t0).toFixed(1);
      status.dataset.state = 'live';
      status.textContent = `live · update ${seq} · ${new Date().toLocaleTimeString()}`;
    }
  } catch (e) {
    document.getElementById('status').textContent = `layout failed: ${e}`;
  } finally {
    state.laying = false;
  }
}

function connect() {
  const events = new EventSource('/events');
  events.addEventListener('topology', (ev) => {
    state.topology = JSON.parse(ev.data);
    state.seq = Number(ev.lastEventId);
    state.pending = { topology: state.topology, seq: state.seq };
    void relayout();
  });
  events.onerror = () => {
    const status = document.getElementById('status');
    status.dataset.state = 'lost';
    status.textContent = 'connection lost; retrying…';
  };
}

// --- Trace ---------------------------------------------------------------

function allPorts(t) {
  const out = [];
  const walk = (p) => {
    out.push(p);
    p.children.forEach(walk);
  };
  for (const s of t.switches) s.ports.forEach(walk);
  return out;
}

function fillPorts(t) {
  for (const id of ['trace-src', 'trace-dst']) {
    const sel = document.getElementById(id);
    const keep = sel.value;
    sel.replaceChildren();
    if (id === 'trace-dst') sel.appendChild(new Option('(none)', ''));
    for (const p of allPorts(t)) sel.appendChild(new Option(p.name, p.name));
    sel.value = keep;
    // A source port that is gone (or none chosen yet): the first one.
    if (sel.value === '' && id === 'trace-src' && sel.options.length > 0) sel.selectedIndex = 0;
  }
}

function portByName(name) {
  return state.topology ? allPorts(state.topology).find((p) => p.name === name) : undefined;
}

function switchOf(portName) {
  const has = (p) => p.name === portName || p.children.some(has);
  return state.topology?.switches.find((s) => s.ports.some(has))?.name;
}

/** The MAC of the router port on `from` of a router that also links `to` (else of any router on `from`). */
function gatewayMac(from, to) {
  const links = state.topology?.links ?? [];
  const toRouters = new Set(links.filter((l) => l.switchName === to).map((l) => l.routerName));
  const mine = links.filter((l) => l.switchName === from);
  const link = mine.find((l) => toRouters.has(l.routerName)) ?? mine[0];
  if (!link) return undefined;
  return state.topology.routers.find((r) => r.name === link.routerName)?.ports.find((p) => p.name === link.routerPort)?.mac;
}

const ipOnly = (s) => (s ?? '').split('/')[0];

/** Fills eth/ip fields from the chosen ports (a router port: its router port's MAC). */
function fillFromPorts() {
  const src = portByName(document.getElementById('trace-src').value);
  const dst = portByName(document.getElementById('trace-dst').value);
  if (src) {
    document.getElementById('trace-eth-src').value = src.macs[0] ?? '';
    document.getElementById('trace-ip4-src').value = ipOnly(src.ips.find((i) => i.includes('.')));
  }
  if (dst) {
    // Across a router the packet goes to the source switch's gateway: its router port's MAC.
    const gw = src && switchOf(src.name) !== switchOf(dst.name) ? gatewayMac(switchOf(src.name), switchOf(dst.name)) : undefined;
    document.getElementById('trace-eth-dst').value = gw ?? dst.macs[0] ?? '';
    document.getElementById('trace-ip4-dst').value = ipOnly(dst.ips.find((i) => i.includes('.')));
  }
  document.getElementById('trace-microflow').value = microflowFromFields();
}

/** The ovn-trace microflow the fields describe. */
function microflowFromFields() {
  const v = (id) => document.getElementById(id).value.trim();
  const parts = [`inport == "${v('trace-src')}"`];
  if (v('trace-eth-src')) parts.push(`eth.src == ${v('trace-eth-src')}`);
  if (v('trace-eth-dst')) parts.push(`eth.dst == ${v('trace-eth-dst')}`);
  const proto = v('trace-proto');
  if (proto !== 'eth') {
    if (v('trace-ip4-src')) parts.push(`ip4.src == ${v('trace-ip4-src')}`);
    if (v('trace-ip4-dst')) parts.push(`ip4.dst == ${v('trace-ip4-dst')}`);
    if (v('trace-ttl')) parts.push(`ip.ttl == ${v('trace-ttl')}`);
    if (proto === 'none') parts.push('ip4');
    if (proto === 'icmp4') parts.push('icmp4.type == 8 && icmp4.code == 0');
    if (proto === 'udp' || proto === 'tcp') parts.push(`${proto}.dst == ${v('trace-l4-dst') || '80'}`);
  }
  return parts.join(' && ');
}

function h(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, val] of Object.entries(attrs)) if (val !== undefined && val !== null) e.setAttribute(k, String(val));
  if (text !== undefined) e.textContent = text;
  return e;
}

function showTrace(r) {
  const out = document.getElementById('trace-result');
  out.replaceChildren();
  out.dataset.microflow = r.microflow;
  out.appendChild(h('div', { class: 'trace-flow' }, r.flow || r.microflow));
  for (const w of r.warnings) out.appendChild(h('div', { class: 'trace-problem trace-warning' }, w));
  if (r.problem) out.appendChild(h('div', { class: 'trace-problem' }, r.problem));
  for (const s of r.sections) {
    const sec = h('section', {
      class: `trace-section ${s.kind}`,
      'data-title': s.title,
      'data-datapath': s.datapath,
      style: `margin-left:${s.depth * 0.8}em`,
    });
    sec.appendChild(h('h3', {}, s.title));
    for (const st of s.steps) {
      const step = h('div', { class: 'trace-step', 'data-table': st.table, 'data-stage': st.stage });
      if (st.stage) step.appendChild(h('span', { class: 'stage' }, `${st.table}. ${st.stage}`));
      step.appendChild(h('code', { class: 'flow-text' }, st.text));
      if (st.actions.length > 0) {
        const ul = h('ul');
        for (const a of st.actions) ul.appendChild(h('li', {}, a));
        step.appendChild(ul);
      }
      sec.appendChild(step);
    }
    out.appendChild(sec);
  }
  if (r.verdict) {
    const v = r.verdict;
    const text = v.kind === 'output' ? `output to ${v.outports.map((p) => `"${p}"`).join(', ')}` : `dropped: ${v.reason || 'no output'}`;
    out.appendChild(h('div', { class: 'trace-verdict', 'data-verdict': v.kind, 'data-outports': v.outports.join(' ') }, text));
  }
  out.dataset.state = 'done';
  state.path = r;
  markPath();
}

/** Marks the datapaths and ports of the last trace on the drawing. */
function markPath() {
  document.querySelectorAll('#topology .on-path').forEach((e) => e.classList.remove('on-path'));
  const r = state.path;
  if (!r) return;
  const esc = (s) => CSS.escape(s);
  for (const s of r.sections) {
    if (s.datapath) document.querySelectorAll(`.node[data-name="${esc(s.datapath)}"]:not(.port)`).forEach((e) => e.classList.add('on-path'));
    for (const m of s.title.matchAll(/(?:inport|outport)="([^"]*)"/g))
      document.querySelectorAll(`.port[data-name="${esc(m[1])}"]`).forEach((e) => e.classList.add('on-path'));
  }
}

async function runTrace(ev) {
  ev.preventDefault();
  const out = document.getElementById('trace-result');
  const typed = document.getElementById('trace-microflow').value.trim();
  const microflow = typed || microflowFromFields();
  out.dataset.state = 'running';
  try {
    const res = await fetch('/trace', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ microflow }) });
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || res.statusText);
    showTrace(body);
  } catch (e) {
    out.replaceChildren(h('div', { class: 'trace-problem' }, String(e.message || e)));
    out.dataset.state = 'failed';
  }
}

function setup() {
  for (const id of ['trace-src', 'trace-dst']) document.getElementById(id).addEventListener('change', fillFromPorts);
  for (const id of ['trace-eth-src', 'trace-eth-dst', 'trace-ip4-src', 'trace-ip4-dst', 'trace-ttl', 'trace-proto', 'trace-l4-dst'])
    document.getElementById(id).addEventListener('input', () => (document.getElementById('trace-microflow').value = microflowFromFields()));
  document.getElementById('trace-form').addEventListener('submit', runTrace);
  connect();
}

setup();
