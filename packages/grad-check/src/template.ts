/**
 * The small language that claims and definitions are written in: plain mathjs, plus four forms that
 * let one formula stand for every batch size m (or class count K), the way the report writes it.
 *
 *   sum(k, body)   body written out for k = 1..m, joined by +   (mathjs has no symbolic sums)
 *   x[k]           the symbol x_k (k may be a bound or free index, or an integer expression)
 *   d(a, v)        the local partial derivative of a with respect to v. When a names a graph node
 *                  (y[i], xhat[i], sigma2, ...) its one-level definition is used, so every other
 *                  input of that node is held fixed: exactly the meaning of each factor in a
 *                  chain-rule product such as dy_i/dxhat_i * dxhat_i/dsigma2.
 *   grad(v)        dL/dv as a backprop adjoint: the derivative of the loss through every path that
 *                  leaves v (nodes downstream of v are inlined, the rest held fixed). Its value comes
 *                  from the definitions, never from the claim.
 *
 * Expansion happens before mathjs sees the expression, so derivative(), compile() and symbolicEqual()
 * all work on ordinary, fully written-out expressions.
 */
import * as math from 'mathjs';
import type { MathNode, SymbolNode as SymbolNodeT } from 'mathjs';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface NodeDefinition {
  /** Node name, e.g. `xhat`. */
  name: string;
  /** Index variable when the node is indexed (`xhat[k]`), otherwise undefined. */
  index?: string;
  body: string;
}

export interface ExpandContext {
  /** The batch-size symbol (`m`, `K`) and its value, substituted as a constant. */
  size?: { symbol: string; value: number };
  /** Values of free indices such as i or t. */
  indices: Record<string, number>;
  /** Graph nodes, for inlining inside d(). */
  nodes: NodeDefinition[];
  /** Filled with the adjoint symbols (grad_x_1, ...) an expression asks for. */
  grads?: Set<string>;
}

const isNode = (n: MathNode, type: string): boolean => (n as { type?: string }).type === type;

export function parseNodeKey(key: string, body: string): NodeDefinition {
  const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[([a-z])\])?$/.exec(key.trim());
  if (!m) throw new TemplateError(`node name "${key}" must look like "mu" or "xhat[k]"`);
  return { name: m[1], index: m[2], body };
}

function parse(src: string, what: string): MathNode {
  try {
    return math.parse(src);
  } catch (err) {
    throw new TemplateError(`${what}: mathjs cannot parse "${src}": ${(err as Error).message}`);
  }
}

function sumOf(terms: MathNode[]): MathNode {
  if (terms.length === 0) return new math.ConstantNode(0);
  const joined = terms.reduce((acc, t) => new math.OperatorNode('+', 'add', [acc, t]));
  return new math.ParenthesisNode(joined);
}

function indexValue(node: MathNode, env: Record<string, number>, ctx: ExpandContext, what: string): number {
  const expanded = expandNode(node, env, ctx, what);
  let value: unknown;
  try {
    value = expanded.evaluate();
  } catch {
    throw new TemplateError(`${what}: index "${node.toString()}" uses an unbound index variable (bind it with sum(k, ...) or a claim index)`);
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TemplateError(`${what}: index "${node.toString()}" is not an integer`);
  }
  const hi = ctx.size?.value;
  if (value < 1 || (hi !== undefined && value > hi)) {
    throw new TemplateError(`${what}: index ${node.toString()} = ${value} is outside 1..${hi ?? '?'}`);
  }
  return value;
}

/** The written-out definition of one node instance, e.g. xhat_2. */
export function nodeInstance(name: string, ctx: ExpandContext, what: string): MathNode | undefined {
  for (const def of ctx.nodes) {
    if (!def.index) {
      if (def.name === name) return expandNode(parse(def.body, `node ${def.name}`), {}, ctx, what);
      continue;
    }
    const m = new RegExp(`^${def.name}_(\\d+)$`).exec(name);
    if (m) {
      return expandNode(parse(def.body, `node ${def.name}`), { [def.index]: Number(m[1]) }, ctx, what);
    }
  }
  return undefined;
}

function expandNode(node: MathNode, env: Record<string, number>, ctx: ExpandContext, what: string): MathNode {
  if (isNode(node, 'FunctionNode')) {
    const fn = node as math.FunctionNode;
    const name = (fn.fn as SymbolNodeT).name;
    if (name === 'sum') {
      const [iv, body] = fn.args;
      if (fn.args.length !== 2 || !isNode(iv, 'SymbolNode')) {
        throw new TemplateError(`${what}: write sums as sum(k, body), got "${node.toString()}"`);
      }
      if (!ctx.size) throw new TemplateError(`${what}: sum() needs a section with a size (m or K)`);
      const k = (iv as SymbolNodeT).name;
      const terms: MathNode[] = [];
      for (let v = 1; v <= ctx.size.value; v++) terms.push(expandNode(body, { ...env, [k]: v }, ctx, what));
      return sumOf(terms);
    }
    if (name === 'd') {
      if (fn.args.length !== 2) throw new TemplateError(`${what}: write derivatives as d(expression, variable)`);
      let target = expandNode(fn.args[0], env, ctx, what);
      const v = expandNode(fn.args[1], env, ctx, what);
      if (!isNode(v, 'SymbolNode')) throw new TemplateError(`${what}: d(_, v) needs a variable, got "${v.toString()}"`);
      if (isNode(target, 'SymbolNode')) {
        const def = nodeInstance((target as SymbolNodeT).name, ctx, what);
        if (def) target = def;
      }
      const derived = math.derivative(target, (v as SymbolNodeT).name, { simplify: false });
      return new math.ParenthesisNode(derived);
    }
    if (name === 'grad') {
      if (fn.args.length !== 1) throw new TemplateError(`${what}: write adjoints as grad(variable)`);
      const v = expandNode(fn.args[0], env, ctx, what);
      if (!isNode(v, 'SymbolNode')) throw new TemplateError(`${what}: grad(v) needs a variable, got "${v.toString()}"`);
      const symbol = `grad_${(v as SymbolNodeT).name}`;
      ctx.grads?.add(symbol);
      return new math.SymbolNode(symbol);
    }
  }
  if (isNode(node, 'AccessorNode')) {
    const acc = node as math.AccessorNode;
    const dims = (acc.index as unknown as { dimensions: MathNode[] }).dimensions;
    if (!isNode(acc.object, 'SymbolNode') || dims.length !== 1) {
      throw new TemplateError(`${what}: only one-index symbols like x[k] are supported, got "${node.toString()}"`);
    }
    const i = indexValue(dims[0], env, ctx, what);
    return new math.SymbolNode(`${(acc.object as SymbolNodeT).name}_${i}`);
  }
  if (isNode(node, 'SymbolNode')) {
    const name = (node as SymbolNodeT).name;
    if (name in env) return new math.ConstantNode(env[name]);
    if (name in ctx.indices) return new math.ConstantNode(ctx.indices[name]);
    if (ctx.size && name === ctx.size.symbol) return new math.ConstantNode(ctx.size.value);
    return node;
  }
  return node.map((child: MathNode) => expandNode(child, env, ctx, what));
}

/** Expand a template into a plain, written-out mathjs expression. */
export function expand(src: string, ctx: ExpandContext, what = 'expression'): MathNode {
  return expandNode(parse(src, what), {}, ctx, what);
}

/** Every node instance of the graph for this size, in definition (topological) order. */
export function nodeInstances(ctx: ExpandContext): Map<string, MathNode> {
  const out = new Map<string, MathNode>();
  for (const def of ctx.nodes) {
    const body = parse(def.body, `node ${def.name}`);
    if (!def.index) {
      out.set(def.name, expandNode(body, {}, ctx, `node ${def.name}`));
      continue;
    }
    const n = ctx.size?.value ?? 0;
    for (let v = 1; v <= n; v++) {
      out.set(`${def.name}_${v}`, expandNode(body, { [def.index]: v }, ctx, `node ${def.name}`));
    }
  }
  return out;
}

export function symbolsOf(node: MathNode): Set<string> {
  const out = new Set<string>();
  node.traverse((n: MathNode, _path: string, parent: MathNode | null) => {
    if (!isNode(n, 'SymbolNode')) return;
    // A function's name is a SymbolNode too (sqrt in sqrt(x)); it is not a variable.
    if (parent && isNode(parent, 'FunctionNode') && (parent as math.FunctionNode).fn === n) return;
    out.add((n as SymbolNodeT).name);
  });
  return out;
}

/** Nodes whose value changes when v changes (v itself excluded). */
export function descendants(v: string, instances: Map<string, MathNode>): Set<string> {
  const deps = new Map<string, Set<string>>();
  for (const [name, body] of instances) deps.set(name, symbolsOf(body));
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, uses] of deps) {
      if (out.has(name) || name === v) continue;
      if (uses.has(v) || [...uses].some((u) => out.has(u))) {
        out.add(name);
        grew = true;
      }
    }
  }
  return out;
}

/** Replace the listed node symbols by their definitions, recursively. */
export function inline(node: MathNode, instances: Map<string, MathNode>, which: Set<string>): MathNode {
  return node.transform((n: MathNode, _path: string, parent: MathNode | null) => {
    if (!isNode(n, 'SymbolNode')) return n;
    if (parent && isNode(parent, 'FunctionNode') && (parent as math.FunctionNode).fn === n) return n;
    const name = (n as SymbolNodeT).name;
    if (!which.has(name)) return n;
    return new math.ParenthesisNode(inline(instances.get(name)!, instances, which));
  });
}
