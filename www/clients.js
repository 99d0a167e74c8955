// Web Worker handles that restart a worker that dies (an uncaught error, or a wasm trap
// reported as {type:'error', fatal}) and tell the page, which then sends the state again.

export class WorkerClient {
  /** url: module worker script; onMessage(data); onRestart(reason) after a new worker started. */
  constructor(url, onMessage, onRestart) {
    this.url = url;
    this.onMessage = onMessage;
    this.onRestart = onRestart;
    this.restarts = 0;
    this.start();
  }
  start() {
    this.worker = new Worker(this.url, { type: 'module' });
    this.worker.onmessage = (ev) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.restart(ev.message || 'the worker stopped');
    };
  }
  /** Sends a message (with optional transferables). */
  post(msg, transfer = []) {
    this.worker.postMessage(msg, transfer);
  }
  /** Replaces the worker by a fresh one. */
  restart(reason) {
    this.worker.terminate();
    this.restarts += 1;
    this.start();
    this.onRestart(reason);
  }
}
