/**
 * Entry point of the labeling page: starts the model worker and the controller, and exposes a
 * read-only state view as `window.__studio` for the end-to-end test.
 */
import './styles.css';
import { StudioApp } from './app.js';

// A factory: after a lost GPU device the page starts a fresh worker.
const app = new StudioApp(() => new Worker(new URL('./worker/model-worker.ts', import.meta.url), { type: 'module', name: 'rpsam2-model' }));
(window as unknown as { __studio: ReturnType<StudioApp['testApi']> }).__studio = app.testApi();
void app.start();
