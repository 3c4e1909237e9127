'use strict';
// Runs last: every page has registered by now.
document.addEventListener('DOMContentLoaded', () => Baton.start());
