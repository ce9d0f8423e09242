// vega-scale ships types, but its package.json "exports" hides them from TypeScript's resolver.
declare module 'vega-scale' {
  /** A named colour scheme: a discrete array of colours, or an interpolator over [0, 1]. */
  export function scheme(name: string): unknown;
}
