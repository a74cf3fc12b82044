/**
 * OVN's logical-flow language (ovn-sb(5), "Logical_Flow TABLE": match and
 * actions): lexer, symbol table, match parser/type checker/expander/evaluator,
 * actions parser, and printers. Pure: no I/O, no module state beyond the
 * frozen default symbol table.
 */
export * from './lexer.js';
export * from './symbols.js';
export * from './expr.js';
export { parseActions, printActions, type Action, type ActionArg, type ParseActionsOptions } from './actions.js';
export * from './dnf.js';
