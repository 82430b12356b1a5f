/**
 * Imported first by `run.tsx`, before React: a dashboard in a terminal runs React's production
 * build unless told otherwise. The development build validates every element and costs several
 * times more per frame (measured in test/bench/ui-render.mjs); NODE_ENV=development still gets it.
 */
process.env['NODE_ENV'] ??= 'production';

export {};
