/**
 * Evaluates templates of one section at sampled points: forward values of every graph node, and the
 * adjoints grad(v) obtained by differentiating the definition with mathjs. Everything that claims and
 * checks compare against comes from here, so it is derived from the definitions and nothing else.
 */
import * as math from 'mathjs';
import type { EvalFunction, MathNode } from 'mathjs';
import { descendants, expand, inline, nodeInstances, type ExpandContext } from './template.js';
import type { Section } from './sections/types.js';

export class SectionModel {
  private readonly graphs = new Map<number, { instances: Map<string, MathNode>; compiled: [string, EvalFunction][] }>();
  private readonly gradCache = new Map<string, EvalFunction>();

  constructor(readonly section: Section) {}

  context(size: number | undefined, indices: Record<string, number> = {}, grads?: Set<string>): ExpandContext {
    const s = this.section.size;
    return {
      size: s && size !== undefined ? { symbol: s.symbol, value: size } : undefined,
      indices,
      nodes: this.section.nodes,
      grads,
    };
  }

  /** Index assignments a per-element template runs over ({i: 1}, ..., {i: m}), or one empty one. */
  indexValues(size: number | undefined, template: string): Record<string, number>[] {
    const idx = this.section.index;
    if (!idx || size === undefined || !new RegExp(`\\b${idx}\\b`).test(template)) return [{}];
    return Array.from({ length: size }, (_, j) => ({ [idx]: j + 1 }));
  }

  graph(size: number | undefined) {
    const key = size ?? 0;
    let g = this.graphs.get(key);
    if (!g) {
      const instances = nodeInstances(this.context(size));
      const compiled: [string, EvalFunction][] = [...instances].map(([name, node]) => [name, node.compile()]);
      g = { instances, compiled };
      this.graphs.set(key, g);
    }
    return g;
  }

  /** Base variables plus the forward value of every node. */
  forward(size: number | undefined, base: Record<string, number>): Record<string, number> {
    const scope: Record<string, number> = { ...base };
    for (const [name, fn] of this.graph(size).compiled) scope[name] = fn.evaluate(scope) as number;
    return scope;
  }

  /** The loss as a function of v: every node downstream of v inlined, everything else held. */
  lossAsFunctionOf(size: number | undefined, v: string): MathNode {
    const loss = this.section.loss;
    if (!loss) throw new Error(`section ${this.section.name} has no loss to differentiate`);
    const { instances } = this.graph(size);
    return inline(instances.get(loss)!, instances, descendants(v, instances));
  }

  /** d loss / d v from the definition (mathjs derivative of the inlined graph). */
  gradExpression(size: number | undefined, v: string): MathNode {
    return math.derivative(this.lossAsFunctionOf(size, v), v, { simplify: false });
  }

  /** Every node replaced by its definition: an expression in base variables only. */
  fullyInlined(size: number | undefined, node: MathNode): MathNode {
    const { instances } = this.graph(size);
    return inline(node, instances, new Set(instances.keys()));
  }

  /** Adds grad_v for each requested adjoint symbol to a forward scope. */
  addGrads(size: number | undefined, scope: Record<string, number>, grads: Iterable<string>): void {
    for (const symbol of grads) {
      const key = `${size}:${symbol}`;
      let fn = this.gradCache.get(key);
      if (!fn) {
        fn = this.gradExpression(size, symbol.slice('grad_'.length)).compile();
        this.gradCache.set(key, fn);
      }
      scope[symbol] = fn.evaluate(scope) as number;
    }
  }

  /** Expand and compile a template for one size and index assignment; lists the adjoints it needs. */
  compile(template: string, size: number | undefined, indices: Record<string, number>, what: string) {
    const grads = new Set<string>();
    const node = expand(template, this.context(size, indices, grads), what);
    return { node, fn: node.compile(), grads };
  }
}
