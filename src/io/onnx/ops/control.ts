/**
 * Control flow decided at import: If on a known condition imports its chosen branch, and Loop with a
 * known trip count (PyTorch's scripted `for i in range(x.size(1))`, torch.tensor_split) is unrolled,
 * each iteration a renamed copy of the body. A network is a fixed graph of ops, so control flow that
 * depends on the data is refused.
 */
import type { onnx } from 'onnx-proto';
import { isBatchDim } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';
import { renamed } from '../rename.ts';
import { concatItems } from './sequence.ts';

/** Most nodes an unrolled Loop may import (iterations × body nodes): guards against a corrupt trip count. */
const MAX_UNROLLED_NODES = 1 << 18;

/**
 * If whose condition is known at import (PyTorch's size test before squeezing a dynamic dim, as in
 * nn.LocalResponseNorm's export): the chosen branch is imported in its place. A condition on the
 * data would need both branches at run time and is refused.
 */
function ifNode(n: NodeContext): void {
  const c = n.constAt(0);
  if (!c) throw new NodeError(`condition ${quote(n.ins[0])} depends on the data; only an If whose condition is known at import (a shape test) is supported`);
  const branch = n.scalar(c, 'cond') !== 0 ? 'then_branch' : 'else_branch';
  n.imp.inline(n.a.graph(branch), n.outs, `${n.where}: ${branch}`, `${n.name}/${branch}/`);
}

/** Nodes in a graph and its subgraphs. */
function nodeCount(g: onnx.IGraphProto): number {
  return (g.node ?? []).reduce((s, nd) => s + 1 + (nd.attribute ?? []).reduce((t, a) => t + (a.g ? nodeCount(a.g) : 0), 0), 0);
}

/** A scalar input that must be known at import (the trip count, a condition). */
function known(n: NodeContext, name: string, what: string, why: string): number {
  const c = n.imp.constOf(name);
  if (!c) throw new NodeError(`${what} ${quote(name)} depends on the data; ${why}`);
  if (c.kind === 'int' && c.data.some(isBatchDim)) throw new NodeError(`${what} ${quote(name)} depends on the batch size; ${why}`);
  return n.scalar(c, what);
}

/**
 * Loop (ONNX semantics: run while i < M and cond; the body maps (i, cond, carried…) to (cond,
 * carried…, scan…)), unrolled at import: the trip count and every iteration's condition must be
 * known there. The final carried values are the Loop's first outputs, and each scan output stacks
 * its per-iteration tensors along a new first axis.
 */
function loop(n: NodeContext): void {
  const why = 'xbarsim unrolls a Loop at import, so its trip count and condition must be known there';
  const body = n.a.graph('body');
  const carriedCount = n.ins.length - 2;
  if (carriedCount < 0) throw new NodeError('needs inputs M and cond (either may be empty)');
  const bodyOuts = (body.output ?? []).map((v) => v.name ?? '');
  const scanCount = bodyOuts.length - 1 - carriedCount;
  if ((body.input ?? []).length !== carriedCount + 2 || scanCount < 0) {
    throw new NodeError(`body has ${(body.input ?? []).length} inputs and ${bodyOuts.length} outputs; with ${carriedCount} carried values it needs ${carriedCount + 2} inputs (iteration, condition, carried) and at least ${carriedCount + 1} outputs`);
  }
  if (n.outs.length > carriedCount + scanCount) throw new NodeError(`has ${n.outs.length} outputs; its body gives ${carriedCount} carried values and ${scanCount} scan outputs`);
  const trip = n.ins[0] ? known(n, n.ins[0], 'trip count M', why) : Infinity;
  if (trip === Infinity && !n.ins[1]) throw new NodeError('has neither a trip count M nor a condition, so it never ends');
  let cond = n.ins[1] ? known(n, n.ins[1], 'condition', why) !== 0 : true;
  const perIteration = Math.max(1, nodeCount(body));
  const tooLong = (iterations: number): NodeError => new NodeError(`unrolled, would import more than ${MAX_UNROLLED_NODES} nodes (${iterations} iterations of ${perIteration})`);
  if (Number.isFinite(trip) && trip * perIteration > MAX_UNROLLED_NODES) throw tooLong(trip);
  let carried = n.ins.slice(2);
  const scans: string[][] = Array.from({ length: scanCount }, () => []);
  for (let i = 0; i < trip && cond; i++) {
    if ((i + 1) * perIteration > MAX_UNROLLED_NODES) throw tooLong(i + 1);
    const iteration = n.imp.fresh(`${n.name}/iteration@${i}`);
    n.imp.setConst(iteration, { kind: 'int', dims: [], data: [i] });
    const condition = n.imp.fresh(`${n.name}/condition@${i}`);
    n.imp.setConst(condition, { kind: 'int', dims: [], data: [1] });
    const copy = renamed(body, [iteration, condition, ...carried], { fresh: (x) => n.imp.fresh(`${x}@${i}`), tag: `${n.name}/${i}` });
    const outs = bodyOuts.map((o) => n.imp.fresh(`${o}@${i}:out`));
    n.imp.inline(copy, outs, `${n.where}: iteration ${i}`, `${n.name}/${i}/`, true);
    cond = known(n, outs[0], `the body's condition at iteration ${i}`, why) !== 0;
    carried = outs.slice(1, 1 + carriedCount);
    scans.forEach((s, k) => s.push(outs[1 + carriedCount + k]));
  }
  n.outs.forEach((o, k) => {
    if (!o) return;
    if (k < carriedCount) return n.imp.bind(o, carried[k]);
    const items = scans[k - carriedCount];
    if (items.length > 0) return concatItems(n, items, 0, true, o);
    if (n.imp.usesOf(o) > 0) throw new NodeError(`scan output ${quote(o)} is read, but the loop runs no iterations, so its shape is unknown`);
  });
}

/** Control-flow ops by ONNX op type. */
export const CONTROL_OPS: OpTable = {
  If: { always: ifNode, control: true },
  Loop: { always: loop, control: true },
};
