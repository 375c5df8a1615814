import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// Startup marks (read by `cargo xtask bench app` to explain the first paint).
performance.mark('gatehouse:script');
const target = document.getElementById('app');
if (!target) throw new Error('missing #app element');

export default mount(App, { target });
