// Bundled in place of zod's locales/index.js where zod's own entries re-export it as `locales` (infra/bundling.ts,
// REDIRECTS): the translated error messages of ~50 languages (~258 KiB minified) that tmc never selects. zod sets
// English itself (classic/schemas.js imports locales/en.js); `z.locales.en` stays, the other languages are gone.
export { default as en } from '../../node_modules/zod/v4/locales/en.js';
