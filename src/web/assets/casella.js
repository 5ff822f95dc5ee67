// Progressive enhancement of the extra-space purchase form: the price and the rule update as the
// quantity changes. Without this script the "show the price" button does the same by reloading.
(function () {
  'use strict';
  var form = document.getElementById('quote-form');
  var section = document.getElementById('quote');
  var input = document.getElementById('quantityGb');
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!form || !section || !input || !meta || !window.fetch) return;
  var mailboxId = form.getAttribute('data-mailbox');
  var d = section.dataset;
  var lang = d.lang === 'en' ? 'en' : 'it';
  var vatBp = Number(d.vatBp);
  var topupMin = Number(d.topupMin);
  var errorEl = document.getElementById('quantity-error');

  // The same elision as src/i18n/dictionary.ts: "l'8 dicembre", "dall'11".
  var ELIDED = { il: "l'", al: "all'", dal: "dall'", del: "dell'", nel: "nell'", sul: "sull'" };
  function elide(t) {
    return t.replace(/\b(il|al|dal|del|nel|sul|Il|Al|Dal|Del|Nel|Sul) (?=8|11(?!\d)|1(?:,\d+)? ?%)/g, function (m, a) {
      var e = ELIDED[a.toLowerCase()];
      return a.charAt(0) === a.charAt(0).toUpperCase() ? e.charAt(0).toUpperCase() + e.slice(1) : e;
    });
  }
  function fill(t, vars) {
    var out = String(t).replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; });
    return lang === 'it' ? elide(out) : out;
  }
  function money(c) {
    var sign = c < 0 ? '-' : '';
    var abs = Math.abs(c);
    var euros = Math.floor(abs / 100);
    var rest = String(abs % 100).padStart(2, '0');
    if (lang === 'en') return sign + '€' + euros.toLocaleString('en-GB') + '.' + rest;
    return sign + String(euros).replace(/\B(?=(\d{3})+(?!\d))/g, '.') + ',' + rest + ' €';
  }
  var MONTHS = {
    it: ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'],
    en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  };
  function day(iso) {
    var p = iso.split('-');
    var dayOfMonth = Number(p[2]);
    return dayOfMonth + (lang === 'it' && dayOfMonth === 1 ? '°' : '') + ' ' + MONTHS[lang][Number(p[1]) - 1] + ' ' + p[0];
  }
  function gross(net) { return net + Math.floor((net * vatBp + 5000) / 10000); }
  // The price as this buyer reads it: the server chose the template (VAT included first for a consumer).
  function price(net) { return fill(d.tPrice, { net: money(net), gross: money(gross(net)) }); }
  function setText(id, t) { var el = document.getElementById(id); if (el) el.textContent = t; }

  function showError(message) {
    section.hidden = true;
    if (!errorEl) return;
    errorEl.textContent = message;
    errorEl.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'quantity-error quantity-hint');
  }
  function clearError() {
    if (errorEl) { errorEl.hidden = true; errorEl.textContent = ''; }
    input.removeAttribute('aria-invalid');
    input.setAttribute('aria-describedby', 'quantity-hint');
  }

  function render(q) {
    clearError();
    var ruleText = section.getAttribute('data-t-' + q.rule) || '';
    setText('q-rule', ruleText);
    setText('q-details', fill(q.renewalGb > q.quantityGb ? d.tDetailsAdded : d.tDetails, {
      from: day(q.activeFrom), until: day(q.activeUntil), renewal: day(q.renewalOn), renewalAmount: price(q.renewalAmountCents),
      renewalGb: q.renewalGb, currentGb: q.renewalGb - q.quantityGb, quantityGb: q.quantityGb,
    }));
    setText('q-price', q.amountCents === 0 ? d.tFree + ' (' + money(0) + ')' : price(q.amountCents));
    setText('q-balance', money(q.balanceCents));
    var short = q.shortfallCents > 0;
    var sf = document.getElementById('q-shortfall');
    if (short) {
      var topup = Math.max(q.shortfallCents, topupMin);
      sf.textContent = fill(d.tShortfall, { balance: money(q.balanceCents), shortfall: money(q.shortfallCents), topup: money(topup), topupGross: money(gross(topup)) });
    }
    sf.hidden = !short;
    document.getElementById('q-quantity').value = String(q.quantityGb);
    document.getElementById('q-amount').value = String(q.amountCents);
    document.getElementById('q-withtopup').disabled = !short;
    document.getElementById('q-submit').textContent = short ? d.tTopup : d.tConfirm;
    section.hidden = false;
  }

  var seq = 0;
  var timer = null;
  function update() {
    var raw = input.value.trim();
    if (raw === '') { section.hidden = true; clearError(); return; }
    if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) { showError(d.tInvalid); return; }
    var mine = ++seq;
    fetch('/api/mailboxes/' + encodeURIComponent(mailboxId) + '/extra-space/quote', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': meta.getAttribute('content') },
      body: JSON.stringify({ quantityGb: Number(raw) }),
    })
      .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body }; }); })
      .then(function (r) {
        if (mine !== seq) return;
        if (r.ok && r.body && r.body.quote) render(r.body.quote);
        else {
          var code = r.body && r.body.error ? r.body.error.code : '';
          showError(code === 'limit_exceeded' ? d.tLimit : code === 'mailbox_not_active' ? d.tInactive : d.tInvalid);
        }
      })
      .catch(function () { /* the button still works without the live price */ });
  }
  input.addEventListener('input', function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (timer) clearTimeout(timer);
    update();
  });
})();
