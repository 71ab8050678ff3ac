// creditbridge embedded admin (Shopify). Built with textContent only
// (never innerHTML), so no value from the API is interpreted as markup.
// Screens are entries of `views`; settings are entries of `settingsFields`:
// a new screen or setting is one entry there plus its texts in
// adapters/i18n/messages.go.
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("cb-boot").textContent);
  var M = boot.messages, lang = boot.lang, tz = boot.timeZone || "UTC";
  var base = "", shop = null, currency = "";
  var app = window.shopify || null;

  function t(key) {
    var s = M[key] || key, args = Array.prototype.slice.call(arguments, 1), i = 0;
    return s.replace(/%[sd]/g, function () { return String(args[i++]); }).replace(/%%/g, "%");
  }

  // ---- formatting (the same rules as adapters/i18n) ----
  var symbols = boot.symbols;
  function money(cur, fixed) {
    if (fixed == null || fixed === "") { return ""; }
    fixed = String(fixed);
    var neg = fixed.charAt(0) === "-"; if (neg) { fixed = fixed.slice(1); }
    var parts = fixed.split("."), ip = parts[0], out = "";
    var thou = lang === "de" ? "." : ",", dec = lang === "de" ? "," : ".";
    for (var i = 0; i < ip.length; i++) { if (i > 0 && (ip.length - i) % 3 === 0) { out += thou; } out += ip.charAt(i); }
    if (parts[1]) { out += dec + parts[1]; }
    var sym = symbols[cur] || cur, sign = neg ? "\u2212" : "";
    if (lang === "de") { return sign + out + "\u00a0" + sym; }
    if (sym.indexOf("$") < 0 && /[a-z]/i.test(sym)) { return sign + sym + "\u00a0" + out; }
    return sign + sym + out;
  }
  function num(s) { return lang === "de" ? String(s).replace(".", ",") : String(s); }
  function date(iso, withTime) {
    if (!iso) { return ""; }
    var d = new Date(iso); if (isNaN(d)) { return iso; }
    var o = { timeZone: tz, year: "numeric", month: "long", day: "numeric" };
    if (withTime) { o.hour = "2-digit"; o.minute = "2-digit"; }
    return new Intl.DateTimeFormat(lang, o).format(d);
  }
  // normalizeDecimal: the same as i18n.NormalizeDecimal (decimal comma).
  function normalizeDecimal(s) {
    s = String(s).trim().replace(/[\s\u00a0\u202f']/g, "").replace(/\u2212/g, "-");
    var d = s.lastIndexOf("."), c = s.lastIndexOf(",");
    if (d >= 0 && c >= 0) { s = c > d ? s.replace(/\./g, "").replace(",", ".") : s.replace(/,/g, ""); }
    else if (c >= 0) { if (s.split(",").length === 2) { s = s.replace(",", "."); } }
    else if (s.split(".").length > 2) { s = s.replace(/\./g, ""); }
    return s;
  }
  var plainDecimal = /^-?[0-9]{1,20}(\.[0-9]{1,20})?$/;

  // ---- elements ----
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v == null || v === false) { return; }
      if (k === "text") { e.textContent = v; } else if (k === "on") { Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); }); }
      else { e.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (ch) { if (ch != null) { e.appendChild(typeof ch === "string" ? document.createTextNode(ch) : ch); } });
    return e;
  }
  function button(label, fn, opts) {
    opts = opts || {};
    return el("button", { type: opts.type || "button", "class": opts.cls || "btn", "aria-label": opts.aria, on: fn ? { click: fn } : null, text: label });
  }
  function table(headers, rows, empty) {
    if (!rows.length) { return el("p", { "class": "muted", text: empty }); }
    var thead = el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", "class": h.num ? "num" : null, text: h.label }); }))]);
    var tbody = el("tbody", {}, rows.map(function (r) {
      return el("tr", {}, r.map(function (v, i) {
        var td = el("td", { "data-label": headers[i].label, "class": headers[i].num ? "num" : null });
        if (v instanceof Node) { td.appendChild(v); } else { td.textContent = v == null ? "" : String(v); }
        return td;
      }));
    }));
    return el("div", { "class": "table-wrap" }, [el("table", { "class": "data" }, [thead, tbody])]);
  }
  function card(title, children, id) {
    return el("section", { "class": "card", "aria-labelledby": id ? id + "-h" : null, id: id }, [title ? el("h2", { id: id ? id + "-h" : null, text: title }) : null].concat(children));
  }
  function field(name, label, input, help) {
    input.id = "f-" + name; input.name = name;
    var err = el("p", { "class": "field-error", id: "f-" + name + "-error", hidden: true });
    var describedBy = ["f-" + name + "-error"];
    var kids = [el("label", { "for": "f-" + name, text: label }), input];
    if (help) { kids.push(el("p", { "class": "help", id: "f-" + name + "-help", text: help })); describedBy.push("f-" + name + "-help"); }
    input.setAttribute("aria-describedby", describedBy.join(" "));
    kids.push(err);
    return el("div", { "class": "field" }, kids);
  }
  function setFieldError(form, name, msg) {
    var input = form.elements[name], err = document.getElementById("f-" + name + "-error");
    if (!input || !err) { return false; }
    err.textContent = msg || ""; err.hidden = !msg;
    if (msg) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    return true;
  }
  function clearErrors(form) { Array.prototype.forEach.call(form.elements, function (x) { if (x.name) { setFieldError(form, x.name, ""); } }); }

  // ---- feedback: App Bridge toasts, else a live region ----
  var live = document.getElementById("cb-live"), banner = document.getElementById("cb-banner");
  function toast(msg, isError) {
    if (app && app.toast) { app.toast.show(msg, { isError: !!isError }); }
    live.textContent = msg;
  }
  function showBanner(msg) { banner.textContent = msg || ""; banner.hidden = !msg; if (msg) { banner.focus(); } }

  // ---- confirmation dialog ----
  var dlg = document.getElementById("cb-confirm");
  function confirmAction(title, text, actionLabel) {
    return new Promise(function (resolve) {
      document.getElementById("cb-confirm-title").textContent = title;
      document.getElementById("cb-confirm-text").textContent = text;
      var ok = document.getElementById("cb-confirm-ok"), cancel = document.getElementById("cb-confirm-cancel");
      ok.textContent = actionLabel;
      function done(v) { ok.onclick = cancel.onclick = null; dlg.close(); resolve(v); }
      ok.onclick = function () { done(true); }; cancel.onclick = function () { done(false); };
      dlg.addEventListener("cancel", function () { resolve(false); }, { once: true });
      dlg.showModal(); cancel.focus();
    });
  }

  // ---- API ----
  async function call(method, path, body) {
    var token = await app.idToken();
    var opts = { method: method, headers: { "Authorization": "Bearer " + token, "Accept-Language": lang } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    var r = await fetch(path, opts);
    if (r.status === 204) { return null; }
    var data = await r.json().catch(function () { return null; });
    if (!r.ok) {
      var e = new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
      e.code = data && data.error && data.error.code; e.status = r.status; e.data = data; throw e;
    }
    return data;
  }
  function apiError(e) {
    var known = { unauthorized: "admin.err.session", not_found: "admin.err.not_found", internal: "admin.err.internal", conflict: "admin.err.conflict" };
    if (known[e.code]) { return t(known[e.code]); }
    return t("admin.err.rejected", e.message);
  }
  function fail(e) { toast(apiError(e), true); }

  // ---- views ----
  var main = document.getElementById("cb-main");
  var views = {};
  var order = ["overview", "rules", "partners", "customers", "settings", "review", "failed", "audit", "export"];

  function isoDay(d) { return d.toISOString().slice(0, 10); }
  views.overview = async function () {
    var data = await call("GET", base + "/report");
    var curs = Object.keys(data.currencies || {}).sort();
    if (!curs.length) { return [card(t("admin.overview.liability"), [el("p", { "class": "muted", text: t("admin.overview.none") })])]; }
    // This month (the period report of the accounting export).
    var now = new Date(), from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    var month = await call("GET", base + "/export/report.json?from=" + isoDay(from) + "&to=" + isoDay(to)).catch(function () { return null; });
    var cards = [];
    if (month && month.currency) {
      var mc = month.currency, ms = [["admin.overview.month_issued", month.issued], ["admin.overview.month_redeemed", month.redeemed], ["admin.overview.month_expired", month.expired],
        ["admin.overview.month_closing", month.closing_liability]];
      cards.push(card(t("admin.overview.month", new Intl.DateTimeFormat(lang, { month: "long", year: "numeric", timeZone: "UTC" }).format(from)), [el("dl", { "class": "stats" }, ms.map(function (s) {
        return el("div", { "class": "stat" }, [el("dt", { text: t(s[0]) }), el("dd", { text: money(mc, s[1]) })]);
      }))], "month"));
    }
    return curs.map(function (cur) {
      var c = data.currencies[cur];
      var stats = [["admin.overview.liability", c.liability], ["admin.overview.issued", c.issued], ["admin.overview.redeemed", c.redeemed],
        ["admin.overview.expired", c.expired], ["admin.overview.vouchers", c.vouchers_outstanding], ["admin.overview.adjustments", c.adjustments]];
      return card(t("admin.overview.title", cur), [el("dl", { "class": "stats" }, stats.map(function (s, i) {
        return el("div", { "class": i === 0 ? "stat main" : "stat" }, [el("dt", { text: t(s[0]) }), el("dd", { text: money(cur, s[1]) })]);
      })), el("p", { "class": "help", text: t("admin.overview.help") })]);
    }).concat(cards);
  };

  // Rules: search, pages of 20, picker, confirmation before delete.
  var ruleState = { q: "", page: 0, rules: [] };
  var PAGE = window.matchMedia && window.matchMedia("(max-width: 40rem)").matches ? 10 : 20;
  function beneficiaryLabel(b) { return b === "buyer" || !b ? t("admin.rules.buyer") : t("admin.rules.partner", b.replace("partner", "")); }
  function ruleValue(r) {
    if (r.mode === "exclude") { return t("admin.rules.excluded"); }
    if (r.mode === "percent") { return num(r.value) + "\u00a0%"; }
    var v = String(r.value), frac = (v.split(".")[1] || "");
    if (frac.length < 2) { v = (v.indexOf(".") < 0 ? v + "." : v) + "00".slice(frac.length); }
    return t("admin.rules.per_item", money(currency, v));
  }
  function ruleTarget(r) {
    if (r.target === "default") { return t("admin.rules.all_products"); }
    var kind = t("admin.rules.target." + r.target);
    var name = (r.title ? r.title : kind + " " + r.target_id) + (r.title ? " (" + kind + " " + r.target_id + ")" : "");
    if (r.target === "collection" && r.products) { name += " · " + t("admin.rules.members", r.products.length); }
    return name;
  }
  function ruleForm(onSaved) {
    var target = el("select", {}, ["default", "product", "variant", "sku", "collection"].map(function (v) { return el("option", { value: v, text: t("admin.rules.target." + v) }); }));
    var targetID = el("input", { autocomplete: "off", inputmode: "text" });
    var title = el("input", { type: "hidden", name: "title" });
    var picked = el("p", { "class": "help", id: "cb-picked" });
    var pick = button(t("admin.rules.pick"), async function () {
      if (!app || !app.resourcePicker) { toast(t("admin.rules.no_picker"), true); return; }
      var variants = form.elements.target.value === "variant", collection = form.elements.target.value === "collection";
      var sel = await app.resourcePicker(collection ? { type: "collection", action: "select", multiple: false } :
        { type: "product", action: "select", multiple: false, filter: { variants: variants } });
      if (!sel || !sel.length) { return; }
      var p = sel[0], id = p.id, name = p.title;
      if (variants && p.variants && p.variants.length) { id = p.variants[0].id; name = p.title + " – " + (p.variants[0].title || ""); }
      form.elements.target_id.value = String(id).split("/").pop();
      title.value = name; picked.textContent = t("admin.rules.picked", name);
      setFieldError(form, "target_id", "");
    }, { cls: "btn secondary" });
    var beneficiary = el("select", {}, ["buyer", "partner1", "partner2", "partner3", "partner4", "partner5"].map(function (v) { return el("option", { value: v, text: beneficiaryLabel(v) }); }));
    var mode = el("select", {}, ["percent", "fixed", "exclude"].map(function (v) { return el("option", { value: v, text: t("admin.rules.mode." + v) }); }));
    var value = el("input", { inputmode: "decimal", autocomplete: "off", placeholder: lang === "de" ? "2,5" : "2.5" });
    var form = el("form", { "class": "form-grid", novalidate: true }, [
      field("target", t("admin.rules.target"), target),
      el("div", { "class": "field" }, [field("target_id", t("admin.rules.target_id"), targetID, t("admin.rules.target_id_help")), pick, picked, title]),
      field("beneficiary", t("admin.rules.beneficiary"), beneficiary),
      field("mode", t("admin.rules.mode"), mode),
      field("value", t("admin.rules.value"), value, t("admin.rules.value_help")),
      el("div", { "class": "actions" }, [button(t("admin.rules.save"), null, { type: "submit", cls: "btn primary" })])
    ]);
    function sync() {
      var tv = target.value, isDefault = tv === "default";
      targetID.disabled = isDefault; pick.hidden = !(tv === "product" || tv === "variant" || tv === "collection");
      pick.textContent = t(tv === "collection" ? "admin.rules.pick_collection" : "admin.rules.pick");
      value.disabled = mode.value === "exclude";
    }
    target.addEventListener("change", sync); mode.addEventListener("change", sync); sync();
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      var rule = { target: target.value, target_id: isDefaultTarget() ? "" : targetID.value.trim(), beneficiary: beneficiary.value, mode: mode.value, value: "0", title: title.value };
      function isDefaultTarget() { return target.value === "default"; }
      var bad = false;
      if (!isDefaultTarget() && !rule.target_id) { setFieldError(form, "target_id", t("admin.err.target_id")); bad = true; }
      if (rule.target !== "sku" && rule.target_id && !/^[0-9]+$/.test(rule.target_id)) { setFieldError(form, "target_id", t("admin.err.target_id_number")); bad = true; }
      if (rule.mode !== "exclude") {
        var v = normalizeDecimal(value.value);
        if (!plainDecimal.test(v) || v.charAt(0) === "-") { setFieldError(form, "value", t("admin.err.number")); bad = true; }
        else if (rule.mode === "percent" && parseFloat(v) > 100) { setFieldError(form, "value", t("admin.err.range", "0", "100")); bad = true; }
        else if (rule.mode === "fixed" && (v.split(".")[1] || "").length > 3) { setFieldError(form, "value", t("admin.err.decimals", 3)); bad = true; }
        rule.value = v;
      }
      if (bad) { form.querySelector("[aria-invalid]").focus(); return; }
      try { await call("PUT", base + "/rules", rule); toast(t("admin.rules.saved")); form.reset(); title.value = ""; picked.textContent = ""; sync(); onSaved(); }
      catch (e) { if (!setFieldError(form, /percent|amount|value/.test(e.message) ? "value" : "target_id", apiError(e))) { fail(e); } }
    });
    return form;
  }
  views.rules = async function () {
    var data = await call("GET", base + "/rules");
    ruleState.rules = data.rules || [];
    var list = el("div", { id: "cb-rule-list" });
    var search = el("input", { type: "search", value: ruleState.q, autocomplete: "off" });
    search.addEventListener("input", function () { ruleState.q = search.value; ruleState.page = 0; drawList(); });
    function drawList() {
      var q = ruleState.q.trim().toLowerCase();
      var rows = ruleState.rules.filter(function (r) { return !q || (r.title || "").toLowerCase().indexOf(q) >= 0 || String(r.target_id).toLowerCase().indexOf(q) >= 0; });
      var pages = Math.max(1, Math.ceil(rows.length / PAGE));
      if (ruleState.page >= pages) { ruleState.page = pages - 1; }
      var shown = rows.slice(ruleState.page * PAGE, ruleState.page * PAGE + PAGE);
      var tbl = table([{ label: t("admin.rules.col.product") }, { label: t("admin.rules.col.beneficiary") }, { label: t("admin.rules.col.credit"), num: true }, { label: t("admin.col.actions") }],
        shown.map(function (r) {
          var name = ruleTarget(r);
          return [name, beneficiaryLabel(r.beneficiary), ruleValue(r), button(t("admin.delete"), async function () {
            if (!(await confirmAction(t("admin.rules.delete_title"), t("admin.rules.delete_text", name), t("admin.delete")))) { return; }
            try { await call("DELETE", base + "/rules/" + encodeURIComponent(r.id)); toast(t("admin.rules.deleted")); await reload(); } catch (e) { fail(e); }
          }, { cls: "btn critical", aria: t("admin.rules.delete_aria", name) })];
        }), q ? t("admin.rules.no_match") : t("admin.rules.none"));
      var pager = el("nav", { "class": "pager", "aria-label": t("admin.pages") }, [
        button(t("admin.prev"), function () { ruleState.page--; drawList(); }, { cls: "btn secondary", aria: t("admin.prev_page") }),
        el("span", { "aria-live": "polite", text: t("admin.page_of", ruleState.page + 1, pages) + " · " + t("admin.rules.count", rows.length) }),
        button(t("admin.next"), function () { ruleState.page++; drawList(); }, { cls: "btn secondary", aria: t("admin.next_page") })
      ]);
      pager.firstChild.disabled = ruleState.page === 0; pager.lastChild.disabled = ruleState.page >= pages - 1;
      list.replaceChildren(tbl, pager);
    }
    // After a change only the list is drawn again: search and focus stay.
    async function reload() { var d = await call("GET", base + "/rules"); ruleState.rules = d.rules || []; drawList(); }
    drawList();
    return [
      card(t("admin.rules.title"), [el("p", { "class": "help", text: t("admin.rules.help") }),
        el("div", { "class": "field search" }, [el("label", { "for": "cb-rule-search", text: t("admin.rules.search") }), (search.id = "cb-rule-search", search)]), list], "rules"),
      card(t("admin.rules.add"), [ruleForm(function () { reload().catch(fail); })], "rule-add"),
      card(t("admin.import.title"), ruleFile(function () { reload().catch(fail); }), "rule-file")
    ];
  };

  // Rules as a CSV file: export, and import with a preview (dry run) whose
  // lines show what changes and every error at its row and field.
  async function callCSV(path, text) {
    var token = await app.idToken();
    var opts = { method: text === undefined ? "GET" : "POST", headers: { "Authorization": "Bearer " + token, "Accept-Language": lang } };
    if (text !== undefined) { opts.headers["Content-Type"] = "text/csv"; opts.body = text; }
    var r = await fetch(path, opts);
    if (text === undefined) {
      if (!r.ok) { var e0 = new Error("HTTP " + r.status); e0.status = r.status; throw e0; }
      return r.text();
    }
    var data = await r.json().catch(function () { return null; });
    if (!r.ok && !(data && data.lines)) {
      var e = new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
      e.code = data && data.error && data.error.code; e.status = r.status; throw e;
    }
    return data;
  }
  function importError(er) {
    var key = "admin.import.err." + er.code, args = er.args || [];
    var msg = M[key] ? t.apply(null, [key].concat(args)) : er.message;
    return (er.field ? t("admin.import.field." + er.field) + ": " : "") + msg;
  }
  function ruleFile(onImported) {
    var file = el("input", { type: "file", accept: ".csv,text/csv" });
    var out = el("div", { id: "cb-import", "aria-live": "polite" });
    var text = "";
    var exportBtn = button(t("admin.import.export"), async function () {
      try {
        var csv = await callCSV(base + "/rules.csv");
        var a = el("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: "creditbridge-rules.csv" });
        document.body.appendChild(a); a.click(); a.remove();
        toast(t("admin.import.exported"));
      } catch (e) { fail(e); }
    }, { cls: "btn secondary" });
    var form = el("form", { "class": "form-inline", novalidate: true }, [field("rules_file", t("admin.import.file"), file, t("admin.import.file_help")),
      button(t("admin.import.preview"), null, { type: "submit", cls: "btn primary" })]);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      if (!file.files || !file.files.length) { setFieldError(form, "rules_file", t("admin.import.choose")); file.focus(); return; }
      text = await file.files[0].text();
      await preview();
    });
    async function preview() {
      out.replaceChildren(el("p", { "class": "muted", text: t("admin.loading") }));
      try { show(await callCSV(base + "/rules/import?dry_run=true", text)); }
      catch (e) { out.replaceChildren(); setFieldError(form, "rules_file", apiError(e)); }
    }
    function show(p) {
      var rows = (p.lines || []).map(function (l) {
        var what = l.rule ? ruleTarget(l.rule) + " · " + beneficiaryLabel(l.rule.beneficiary) + " · " + ruleValue(l.rule) :
          Object.keys(l.values || {}).filter(function (k) { return l.values[k] !== ""; }).map(function (k) { return k + "=" + l.values[k]; }).join(", ");
        var before = l.action === "update" && l.previous ? t("admin.import.before", ruleValue(l.previous)) : "";
        var errs = (l.errors || []).map(importError).join(" · ");
        return [String(l.line), t("admin.import.action." + l.action), what + (before ? " (" + before + ")" : ""), errs ? el("span", { "class": "field-error", text: errs }) : ""];
      });
      var summary = t("admin.import.summary", p.create, p.update, p.unchanged, p.invalid);
      var kids = [el("p", { "class": p.ok ? "ok" : "field-error", id: "cb-import-summary", text: summary + " " + (p.ok ? t("admin.import.ready") : t("admin.import.fix")) }),
        table([{ label: t("admin.import.col.line"), num: true }, { label: t("admin.import.col.action") }, { label: t("admin.import.col.rule") }, { label: t("admin.import.col.errors") }], rows, t("admin.import.empty"))];
      if (p.ok && p.create + p.update > 0) {
        kids.push(el("div", { "class": "actions" }, [button(t("admin.import.apply", p.create + p.update), async function () {
          try {
            var r = await callCSV(base + "/rules/import", text);
            if (!r.applied) { show(r); return; }
            toast(t("admin.import.done", r.create + r.update)); out.replaceChildren(el("p", { "class": "ok", text: t("admin.import.done", r.create + r.update) }));
            form.reset(); text = ""; onImported();
          } catch (e) { fail(e); }
        }, { cls: "btn primary" })]));
      }
      out.replaceChildren.apply(out, kids);
    }
    return [el("p", { "class": "help", text: t("admin.import.help") }), el("div", { "class": "actions" }, [exportBtn]), form, out];
  }

  // Partners: enrol a customer, the sponsor tree (search, a partner's
  // direct downline), move, approve or refuse self-signups, deactivate;
  // bring-a-friend rewards and the self-referrals refused.
  var partnerState = { q: "", status: "", sponsor: "", cursors: [""] };
  var refusalState = { cursors: [""] };
  views.partners = async function () {
    var q = el("input", { type: "search", autocomplete: "off", value: partnerState.q });
    var status = el("select", {}, ["", "active", "pending", "inactive"].map(function (v) { return el("option", { value: v, text: t("admin.partners.status." + (v || "all")) }); }));
    status.value = partnerState.status;
    var sponsor = el("input", { autocomplete: "off", value: partnerState.sponsor });
    var list = el("div", { id: "cb-partner-list" });
    var search = el("form", { "class": "form-inline", role: "search" }, [field("partner_q", t("admin.partners.search"), q), field("partner_status", t("admin.partners.col.status"), status),
      field("partner_sponsor", t("admin.partners.sponsor_filter"), sponsor, t("admin.partners.sponsor_filter_help")),
      button(t("admin.partners.find"), null, { type: "submit", cls: "btn primary" })]);
    search.addEventListener("submit", function (ev) { ev.preventDefault(); partnerState = { q: q.value.trim(), status: status.value, sponsor: sponsor.value.trim(), cursors: [""] }; drawPartners(list); });
    // Showing a partner's downline (or a new partner) fills the search form.
    list.show = function (sq, sp) { q.value = sq; status.value = ""; sponsor.value = sp; partnerState = { q: sq, status: "", sponsor: sp, cursors: [""] }; return drawPartners(list); };
    var who = el("input", { autocomplete: "off" }), to = el("input", { autocomplete: "off" });
    var move = el("form", { "class": "form-inline", novalidate: true }, [field("move_partner", t("admin.partners.move_who"), who), field("move_to", t("admin.partners.move_to"), to, t("admin.partners.move_help")),
      button(t("admin.partners.move"), null, { type: "submit", cls: "btn primary" })]);
    move.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(move);
      if (!who.value.trim()) { setFieldError(move, "move_partner", t("admin.err.partner")); who.focus(); return; }
      try {
        await call("PATCH", base + "/partners/" + encodeURIComponent(who.value.trim()), { sponsor_id: to.value.trim() });
        toast(t("admin.partners.moved")); who.value = ""; to.value = ""; drawPartners(list);
      } catch (e) { setFieldError(move, e.status === 404 || /partner/.test(e.message) && !/sponsor/.test(e.message) ? "move_partner" : "move_to", apiError(e)); }
    });
    await drawPartners(list);
    var rewards = await call("GET", base + "/referral-rewards?limit=20");
    var rrows = (rewards.rewards || []).map(function (r) {
      var st = t("admin.referral.status." + r.status) + (r.refusal ? ": " + t("admin.referral.refusal." + r.refusal) : "");
      return [date(r.ordered_at), r.order_number || r.order_id, (r.referrer && r.referrer.id) || "", money(r.currency, r.order_net), money(r.currency, r.reward_amount), money(r.currency, r.welcome_amount), st];
    });
    var rtbl = table([{ label: t("admin.referral.col.date") }, { label: t("admin.referral.col.order") }, { label: t("admin.referral.col.referrer") }, { label: t("admin.referral.col.net"), num: true },
      { label: t("admin.referral.col.reward"), num: true }, { label: t("admin.referral.col.welcome"), num: true }, { label: t("admin.referral.col.status") }], rrows, t("admin.referral.none"));
    var refusals = el("div", { id: "cb-refusal-list" });
    refusalState = { cursors: [""] };
    await drawRefusals(refusals);
    return [card(t("admin.partners.title"), [el("p", { "class": "help", text: t("admin.partners.help") }), search, list], "partners"),
      card(t("admin.partners.enrol_title"), [el("p", { "class": "help", text: t("admin.partners.enrol_help") }), enrolForm(list)], "partner-enrol"),
      card(t("admin.partners.move_title"), [move], "partner-move"),
      card(t("admin.referral.title"), [el("p", { "class": "help", text: t("admin.referral.help") }), rtbl], "referral-rewards"),
      card(t("admin.selfref.title"), [el("p", { "class": "help", text: t("admin.selfref.help") }), refusals], "referral-refusals")];
  };
  function partnerName(p) { return p.name ? p.name + " (" + p.id + ")" : p.id; }
  // setStatus changes a partner's status (after confirming when asked).
  function setStatus(list, p, to, confirmKeys) {
    return async function () {
      var name = partnerName(p);
      if (confirmKeys && !(await confirmAction(t(confirmKeys[0]), t(confirmKeys[1], name), t(confirmKeys[2])))) { return; }
      try { await call("PATCH", base + "/partners/" + encodeURIComponent(p.id), { status: to }); toast(t("admin.partners.saved")); drawPartners(list); } catch (e) { fail(e); }
    };
  }
  async function drawPartners(list) {
    var cur = partnerState.cursors[partnerState.cursors.length - 1];
    var qs = "?limit=20" + (partnerState.q ? "&q=" + encodeURIComponent(partnerState.q) : "") + (partnerState.status ? "&status=" + partnerState.status : "") +
      (partnerState.sponsor ? "&sponsor=" + encodeURIComponent(partnerState.sponsor) : "") + (cur ? "&cursor=" + encodeURIComponent(cur) : "");
    var data = await call("GET", base + "/partners" + qs);
    var rows = (data.partners || []).map(function (p) {
      var name = partnerName(p), st = p.status || "active", actions;
      if (st === "pending") {
        actions = el("div", { "class": "actions" }, [
          button(t("admin.partners.approve"), setStatus(list, p, "active"), { cls: "btn primary", aria: t("admin.partners.approve_aria", name) }),
          button(t("admin.partners.refuse"), setStatus(list, p, "inactive", ["admin.partners.refuse_title", "admin.partners.refuse_text", "admin.partners.refuse"]),
            { cls: "btn critical", aria: t("admin.partners.refuse_aria", name) })]);
      } else if (st === "inactive") {
        actions = button(t("admin.partners.activate"), setStatus(list, p, "active"), { cls: "btn secondary", aria: t("admin.partners.activate_aria", name) });
      } else {
        actions = button(t("admin.partners.deactivate"), setStatus(list, p, "inactive", ["admin.partners.deactivate_title", "admin.partners.deactivate_text", "admin.partners.deactivate"]),
          { cls: "btn critical", aria: t("admin.partners.deactivate_aria", name) });
      }
      var down = p.downline ? button(String(p.downline), function () { list.show("", p.id).catch(fail); }, { cls: "btn secondary", aria: t("admin.partners.downline_aria", name, p.downline) }) : "0";
      return [name, p.code || "", p.customer_id || "–", p.sponsor_id || t("admin.partners.root"), down, t("admin.partners.status." + st), actions];
    });
    var empty = partnerState.sponsor ? t("admin.partners.no_downline", partnerState.sponsor) : t("admin.partners.none");
    var tbl = table([{ label: t("admin.partners.col.partner") }, { label: t("admin.partners.col.code") }, { label: t("admin.partners.col.customer") }, { label: t("admin.partners.col.sponsor") },
      { label: t("admin.partners.col.downline"), num: true }, { label: t("admin.partners.col.status") }, { label: t("admin.col.actions") }], rows, empty);
    var pager = el("nav", { "class": "pager", "aria-label": t("admin.pages") }, [
      button(t("admin.prev"), function () { partnerState.cursors.pop(); drawPartners(list); }, { cls: "btn secondary", aria: t("admin.prev_page") }),
      button(t("admin.next"), function () { partnerState.cursors.push(data.next_cursor); drawPartners(list); }, { cls: "btn secondary", aria: t("admin.next_page") })]);
    pager.firstChild.disabled = partnerState.cursors.length < 2; pager.lastChild.disabled = !data.next_cursor;
    var kids = [];
    if (partnerState.sponsor) { kids.push(el("p", { id: "cb-partner-scope", text: t("admin.partners.downline_of", partnerState.sponsor) })); }
    list.replaceChildren.apply(list, kids.concat([tbl, pager]));
  }
  // Enrol: a shop customer becomes a partner (active: the merchant's own
  // decision), optionally under a sponsor and with a chosen share code.
  function enrolForm(list) {
    var cust = el("input", { autocomplete: "off", inputmode: "numeric" }), sponsor = el("input", { autocomplete: "off" });
    var code = el("input", { autocomplete: "off", maxlength: "40" }), name = el("input", { autocomplete: "off", maxlength: "200" });
    var form = el("form", { "class": "form-grid", novalidate: true, id: "cb-enrol" }, [
      field("enrol_customer", t("admin.partners.enrol_customer"), cust, t("admin.partners.enrol_customer_help")),
      field("enrol_sponsor", t("admin.partners.enrol_sponsor"), sponsor, t("admin.partners.move_help")),
      field("enrol_code", t("admin.partners.enrol_code"), code, t("admin.partners.enrol_code_help")),
      field("enrol_name", t("admin.partners.enrol_name"), name),
      el("div", { "class": "actions" }, [button(t("admin.partners.enrol"), null, { type: "submit", cls: "btn primary" })])]);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      var id = cust.value.trim(), bad = false;
      if (!/^[0-9]{1,20}$/.test(id)) { setFieldError(form, "enrol_customer", t("admin.err.customer_id")); bad = true; }
      if (code.value.trim() && !/^[A-Za-z0-9_-]{3,40}$/.test(code.value.trim())) { setFieldError(form, "enrol_code", t("admin.err.code")); bad = true; }
      if (bad) { form.querySelector("[aria-invalid]").focus(); return; }
      var body = { customer_id: id, sponsor_id: sponsor.value.trim(), code: code.value.trim(), name: name.value.trim() };
      try {
        var p = await call("POST", base + "/partners", body);
        toast(t("admin.partners.enrolled", partnerName(p), p.code)); form.reset();
        list.show(p.id, "").catch(fail);
      } catch (e) {
        if (e.code === "conflict") { setFieldError(form, "enrol_customer", t("admin.partners.already", id)); cust.focus(); return; }
        var f = /sponsor|cycle/.test(e.message) ? "enrol_sponsor" : /code/.test(e.message) ? "enrol_code" : /name/.test(e.message) ? "enrol_name" : "enrol_customer";
        setFieldError(form, f, apiError(e));
      }
    });
    return form;
  }
  // Self-referrals refused: the reason and status in the reader's
  // language (kinds this page does not know show the API's own text), no
  // buyer data. One found after the order earned ("review") can have its
  // partner credit taken back, after confirming.
  function apiText(r, field, key) {
    var api = r[field + "_" + lang] || r[field];
    return M[key] ? t(key) : (api && api !== key ? api : "");
  }
  async function drawRefusals(out) {
    var cur = refusalState.cursors[refusalState.cursors.length - 1];
    var data = await call("GET", base + "/referral-refusals?limit=" + PAGE + (cur ? "&cursor=" + encodeURIComponent(cur) : ""));
    var list = data.refusals || [];
    var withStatus = list.some(function (r) { return r.status; });
    var rows = list.map(function (r) {
      var order = r.order_number || r.order_id;
      var row = [date(r.created_at, true), order, r.partner || "", apiText(r, "text", "admin.referral.self." + r.reason) || r.reason || ""];
      if (withStatus) {
        var st = r.status || "refused";
        row.push(apiText(r, "status_text", "admin.referral.self.status." + st) + (r.reversed_at ? " · " + date(r.reversed_at, true) : "") || st);
        row.push(st !== "review" ? "" : button(t("admin.selfref.reverse"), async function () {
          if (!(await confirmAction(t("admin.selfref.reverse_title"), t("admin.selfref.reverse_text", order, r.partner || ""), t("admin.selfref.reverse")))) { return; }
          try {
            await call("POST", base + "/referral-refusals/" + encodeURIComponent(r.order_id) + "/reverse");
            toast(t("admin.selfref.reversed", order)); await drawRefusals(out);
          } catch (e) { fail(e); }
        }, { cls: "btn critical", aria: t("admin.selfref.reverse_aria", order) }));
      }
      return row;
    });
    var cols = [{ label: t("admin.selfref.col.date") }, { label: t("admin.selfref.col.order") }, { label: t("admin.selfref.col.partner") }, { label: t("admin.selfref.col.kind") }];
    if (withStatus) { cols.push({ label: t("admin.selfref.col.status") }, { label: t("admin.col.actions") }); }
    var tbl = table(cols, rows, t("admin.selfref.none"));
    var pager = el("nav", { "class": "pager", "aria-label": t("admin.selfref.pages") }, [
      button(t("admin.newer"), function () { refusalState.cursors.pop(); drawRefusals(out).catch(fail); }, { cls: "btn secondary", aria: t("admin.selfref.newer") }),
      button(t("admin.older"), function () { refusalState.cursors.push(data.next_cursor); drawRefusals(out).catch(fail); }, { cls: "btn secondary", aria: t("admin.selfref.older") })]);
    pager.firstChild.disabled = refusalState.cursors.length < 2; pager.lastChild.disabled = !data.next_cursor;
    out.replaceChildren(tbl, pager);
  }

  // Customers: balance, statement (with holds, for the merchant), adjustment.
  var custState = { id: "", cursor: "", after: "" };
  views.customers = async function () {
    var idInput = el("input", { autocomplete: "off", value: custState.id });
    var out = el("div", { id: "cb-customer" });
    var form = el("form", { "class": "form-inline", role: "search" }, [field("customer", t("admin.cust.id"), idInput, t("admin.cust.id_help")),
      button(t("admin.cust.show"), null, { type: "submit", cls: "btn primary" })]);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      var id = idInput.value.trim();
      if (!id) { setFieldError(form, "customer", t("admin.err.customer")); idInput.focus(); return; }
      if (/^([0-9]+|c:[0-9]+|g:[0-9a-f]{32}|partner:[A-Za-z0-9_.-]+)$/.test(id)) { custState = { id: id, cursor: "", after: "" }; showCustomer(out); return; }
      // Otherwise: part of an e-mail address.
      try {
        var found = (await call("GET", base + "/customers?q=" + encodeURIComponent(id))).customers || [];
        var rows = found.map(function (c) {
          var label = c.email || c.platform_id || c.owner_id;
          return [c.email || "", c.platform_id || t("admin.cust.guest"), button(t("admin.cust.show"), function () {
            custState = { id: c.platform_id || c.owner_id, cursor: "", after: "" }; showCustomer(out);
          }, { cls: "btn secondary", aria: t("admin.cust.show_aria", label) })];
        });
        out.replaceChildren(el("h3", { text: t("admin.cust.matches", found.length) }),
          table([{ label: t("admin.cust.col.email") }, { label: t("admin.cust.col.id") }, { label: t("admin.col.actions") }], rows, t("admin.cust.no_match")));
      } catch (e) { setFieldError(form, "customer", apiError(e)); }
    });
    if (custState.id) { showCustomer(out); }
    return [card(t("admin.cust.title"), [form, out], "customers")];
  };
  async function showCustomer(out) {
    var p = base + "/customers/" + encodeURIComponent(custState.id);
    out.replaceChildren(el("p", { "class": "muted", text: t("admin.loading") }));
    try {
      var q = "?limit=25" + (custState.cursor ? "&cursor=" + custState.cursor : "") + (custState.after ? "&after=" + custState.after : "");
      var both = await Promise.all([call("GET", p + "/balance"), call("GET", p + "/statement" + q)]);
      var b = both[0], st = both[1], cur = b.currency;
      var stats = el("dl", { "class": "stats" }, [["admin.cust.available", b.available], ["admin.cust.pending", b.pending], ["admin.cust.held", b.held], ["admin.cust.overdraft", b.overdraft]].map(function (s, i) {
        return el("div", { "class": i === 0 ? "stat main" : "stat" }, [el("dt", { text: t(s[0]) }), el("dd", { text: money(cur, s[1]) })]);
      }));
      var rows = st.entries.map(function (e) {
        var d = e.delta, note = e.internal_note ? " · " + t("admin.cust.internal", e.internal_note) : "";
        return [date(e.created_at, true), e.description + note, money(cur, d) + (e.pending_delta !== "0.00" && e.pending_delta !== "0" ? " · " + t("admin.cust.pending_short", money(cur, e.pending_delta)) : "") +
          (e.held_delta !== "0.00" && e.held_delta !== "0" ? " · " + t("admin.cust.held_short", money(cur, e.held_delta)) : ""), money(cur, e.available_after)];
      });
      var tbl = table([{ label: t("admin.cust.col.date") }, { label: t("admin.cust.col.what") }, { label: t("admin.cust.col.change"), num: true }, { label: t("admin.cust.col.available"), num: true }], rows, t("admin.cust.empty"));
      var pager = el("nav", { "class": "pager", "aria-label": t("admin.pages") }, [
        button(t("admin.newer"), function () { custState.after = st.prev_cursor; custState.cursor = ""; showCustomer(out); }, { cls: "btn secondary" }),
        button(t("admin.older"), function () { custState.cursor = st.next_cursor; custState.after = ""; showCustomer(out); }, { cls: "btn secondary" })]);
      pager.firstChild.disabled = !st.prev_cursor; pager.lastChild.disabled = !st.next_cursor;
      out.replaceChildren(el("h3", { text: t("admin.cust.balance", custState.id) }), stats, el("h3", { text: t("admin.cust.statement") }), tbl, pager, adjustForm(cur, out));
    } catch (e) { out.replaceChildren(el("p", { "class": "field-error", role: "alert", text: apiError(e) })); }
  }
  function adjustForm(cur, out) {
    var amount = el("input", { inputmode: "decimal", autocomplete: "off", placeholder: lang === "de" ? "-5,00" : "-5.00" });
    var note = el("input", { autocomplete: "off", maxlength: "500" });
    var internal = el("textarea", { rows: "2", maxlength: "2000" });
    var key = "admin-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
    var form = el("form", { "class": "form-grid", novalidate: true }, [el("h3", { text: t("admin.adj.title") }),
      field("amount", t("admin.adj.amount", cur), amount, t("admin.adj.amount_help")),
      field("note", t("admin.adj.note"), note, t("admin.adj.note_help")),
      field("internal_note", t("admin.adj.internal"), internal, t("admin.adj.internal_help")),
      el("div", { "class": "actions" }, [button(t("admin.adj.save"), null, { type: "submit", cls: "btn primary" })])]);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      var v = normalizeDecimal(amount.value), bad = false;
      if (!plainDecimal.test(v) || parseFloat(v) === 0) { setFieldError(form, "amount", t("admin.err.amount")); bad = true; }
      else if ((v.split(".")[1] || "").length > 2) { setFieldError(form, "amount", t("admin.err.decimals", 2)); bad = true; }
      if (!note.value.trim()) { setFieldError(form, "note", t("admin.err.note")); bad = true; }
      if (bad) { form.querySelector("[aria-invalid]").focus(); return; }
      try {
        await call("POST", base + "/customers/" + encodeURIComponent(custState.id) + "/adjustments", { amount: v, note: note.value.trim(), internal_note: internal.value.trim(), idempotency_key: key });
        toast(t("admin.adj.saved")); custState.cursor = custState.after = ""; showCustomer(out);
      } catch (e) { if (!setFieldError(form, e.code === "insufficient" || /amount/.test(e.message) ? "amount" : "note", apiError(e))) { fail(e); } }
    });
    return form;
  }

  // Settings: one entry per field; defaults are the values that apply.
  var settingsFields = [
    { key: "redemption_mode", type: "select", options: ["", "function", "codes"], group: "checkout", platform: "shopify" },
    { key: "store_credit_expiry_days", type: "int", min: 0, max: 3650, def: 0, group: "checkout", platform: "shopify" },
    { key: "hold_minutes", type: "int", min: 0, max: 10080, def: 60, group: "checkout" },
    { key: "keep_credit_on_refund", type: "bool", group: "checkout" },
    { key: "max_percent", type: "decimal", min: 0, max: 100, nullable: true, group: "checkout" },
    { key: "max_amount", type: "money", nullable: true, group: "checkout" },
    { key: "min_order", type: "money", nullable: true, group: "checkout" },
    { key: "pending_days", type: "int", min: 0, max: 365, def: 0, group: "program" },
    { key: "voucher_days", type: "int", min: 0, max: 3650, def: 90, group: "program" },
    { key: "partner_levels", type: "int", min: 0, max: 5, def: 0, group: "program" },
    { key: "referral.reward_amount", type: "money", nullable: true, empty: "admin.set.none", group: "referral" },
    { key: "referral.welcome_amount", type: "money", nullable: true, empty: "admin.set.none", group: "referral" },
    { key: "referral.max_rewards_per_month", type: "int", min: 0, max: 100000, def: 0, group: "referral" },
    { key: "referral.reward_min_order_net", type: "money", nullable: true, empty: "admin.set.none", group: "referral" },
    { key: "referral.household_check", type: "bool", group: "referral" },
    { key: "referral.signup", type: "select", options: ["", "open", "closed"], group: "referral" },
    { key: "referral.binding", type: "bool", group: "referral" },
    { key: "earn_base", type: "select", options: ["", "gross"], group: "earning" },
    { key: "rounding", type: "select", options: ["", "half_even"], group: "earning" },
    { key: "earn_cap_order_percent", type: "decimal", min: 0, max: 100, nullable: true, group: "earning" },
    { key: "earn_cap_order_amount", type: "money", nullable: true, group: "earning" },
    { key: "earn_cap_year_amount", type: "money", nullable: true, group: "earning" },
    { key: "tax.prices_include_tax", type: "bool", group: "earning" },
    { key: "tax.rate", type: "decimal", min: 0, max: 100, nullable: true, empty: "admin.set.none", group: "earning" },
    { key: "redeem_base", type: "select", options: ["", "net"], group: "checkout", platform: "woocommerce" },
    { key: "locale", type: "select", options: ["", "de", "en"], group: "texts" },
    { key: "discount_labels.de", type: "text", max: 60, group: "texts", placeholder: "Guthaben", platform: "shopify" },
    { key: "discount_labels.en", type: "text", max: 60, group: "texts", placeholder: "Store credit", platform: "shopify" },
    { key: "time_zone", type: "text", max: 64, group: "texts", placeholder: "Europe/Berlin" }
  ];
  views.settings = async function () {
    shop = await call("GET", base);
    var st = shop.settings || {};
    var groups = {};
    var form = el("form", { id: "cb-settings", novalidate: true, "data-save-bar": true });
    shownSettings().forEach(function (f) {
      var input;
      if (f.type === "bool") {
        input = el("input", { type: "checkbox" }); input.checked = !!getPath(st, f.key);
      } else if (f.type === "select") {
        input = el("select", {}, f.options.map(function (o) { return el("option", { value: o, text: t("admin.set." + f.key + "." + (o || "auto")) }); }));
        input.value = getPath(st, f.key) || "";
      } else {
        var v = getPath(st, f.key);
        if ((v == null || v === 0 || v === "") && f.def != null) { v = f.def; }
        if (f.type === "decimal" || f.type === "money") { v = v == null ? "" : num(v); }
        input = el("input", { inputmode: f.type === "int" ? "numeric" : (f.type === "text" ? "text" : "decimal"), autocomplete: "off", value: v == null ? "" : String(v),
          maxlength: f.max && f.type === "text" ? String(f.max) : null, placeholder: f.placeholder || (f.nullable ? t(f.empty || "admin.set.no_limit") : null) });
      }
      var help = M["admin.set." + f.key + ".help"] ? t("admin.set." + f.key + ".help", currency) : null;
      if (!groups[f.group]) { groups[f.group] = el("fieldset", {}, [el("legend", { text: t("admin.set.group." + f.group) })]); form.appendChild(groups[f.group]); }
      groups[f.group].appendChild(field(f.key, t("admin.set." + f.key, currency), input, help));
    });
    form.appendChild(el("div", { "class": "actions" }, [button(t("admin.save"), null, { type: "submit", cls: "btn primary" }), button(t("admin.discard"), function () { render("settings"); }, { cls: "btn secondary" })]));
    form.addEventListener("input", function () { if (app && app.saveBar) { app.saveBar.show("cb-save-bar"); } });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); saveSettings(form); });
    return [card(t("admin.set.title"), [form], "settings")];
  };
  // Nested settings ("discount_labels.de") are read and written by path.
  function getPath(o, k) { return k.split(".").reduce(function (v, p) { return v == null ? v : v[p]; }, o); }
  function setPath(o, k, v) {
    var ps = k.split("."), last = ps.pop();
    ps.forEach(function (p) { o = o[p] = o[p] || {}; });
    o[last] = v;
  }
  // Settings of this shop's platform (a field without platform is for all).
  function shownSettings() { return settingsFields.filter(function (f) { return !f.platform || !shop || !shop.platform || f.platform === shop.platform; }); }
  async function saveSettings(form) {
    clearErrors(form);
    var body = {}, bad = false;
    shownSettings().forEach(function (f) {
      if (f.type === "bool") { setPath(body, f.key, form.elements[f.key].checked); return; }
      var raw = form.elements[f.key].value.trim();
      if (f.type === "int") {
        if (!/^[0-9]+$/.test(raw) || +raw < f.min || +raw > f.max) { setFieldError(form, f.key, t("admin.err.whole", f.min, f.max)); bad = true; return; }
        setPath(body, f.key, parseInt(raw, 10));
      } else if (f.type === "decimal" || f.type === "money") {
        if (raw === "" && f.nullable) { setPath(body, f.key, null); return; }
        var v = normalizeDecimal(raw);
        if (!plainDecimal.test(v) || v.charAt(0) === "-") { setFieldError(form, f.key, t("admin.err.number")); bad = true; return; }
        if (f.max != null && parseFloat(v) > f.max) { setFieldError(form, f.key, t("admin.err.range", num(f.min), num(f.max))); bad = true; return; }
        if (f.type === "money" && (v.split(".")[1] || "").length > 2) { setFieldError(form, f.key, t("admin.err.decimals", 2)); bad = true; return; }
        setPath(body, f.key, v);
      } else {
        if (f.max && raw.length > f.max) { setFieldError(form, f.key, t("admin.err.length", f.max)); bad = true; return; }
        if (f.key.indexOf("discount_labels.") === 0 && /[<>{}]/.test(raw)) { setFieldError(form, f.key, t("admin.err.label")); bad = true; return; }
        setPath(body, f.key, raw);
      }
    });
    if (bad) { form.querySelector("[aria-invalid]").focus(); return; }
    try {
      shop = await call("PATCH", base + "/settings", body);
      if (app && app.saveBar) { app.saveBar.hide("cb-save-bar"); }
      toast(t("admin.set.saved"));
    } catch (e) {
      var k = shownSettings().map(function (f) { return f.key; }).filter(function (k) { return e.message.indexOf(k) === 0; })[0];
      if (!k || !setFieldError(form, k, apiError(e))) { fail(e); }
    }
  }

  views.failed = async function () {
    var data = await call("GET", base + "/dead-letters");
    var rows = (data.dead_letters || []).map(function (d) {
      return [String(d.id), d.topic, date(d.received_at, true), d.last_error || "", button(t("admin.failed.retry"), async function () {
        try { await call("POST", base + "/dead-letters/" + encodeURIComponent(d.id) + "/retry"); toast(t("admin.failed.queued")); render("failed"); } catch (e) { fail(e); }
      }, { cls: "btn secondary", aria: t("admin.failed.retry_aria", d.id, d.topic) })];
    });
    return [card(t("admin.failed.title"), [el("p", { "class": "help", text: t("admin.failed.help") }),
      table([{ label: t("admin.failed.col.id") }, { label: t("admin.failed.col.topic") }, { label: t("admin.failed.col.received") }, { label: t("admin.failed.col.error") }, { label: t("admin.col.actions") }], rows, t("admin.failed.none"))], "failed")];
  };

  views.audit = async function () {
    var out = el("div", { "aria-live": "polite" });
    var run = button(t("admin.audit.run"), async function () {
      out.replaceChildren(el("p", { "class": "muted", text: t("admin.loading") }));
      try {
        var r = await call("GET", base + "/audit");
        if (r.ok) { out.replaceChildren(el("p", { "class": "ok", text: t("admin.audit.ok") })); return; }
        var lines = ((r.report && r.report.findings) || []).map(function (f) { return (f.severity ? f.severity + ": " : "") + (f.check ? f.check + ": " : "") + (f.detail || ""); });
        out.replaceChildren(el("p", { "class": "field-error", text: t("admin.audit.problems") }), el("ul", {}, lines.map(function (l) { return el("li", { text: l }); })));
      } catch (e) { out.replaceChildren(el("p", { "class": "field-error", text: apiError(e) })); }
    }, { cls: "btn primary" });
    return [card(t("admin.audit.title"), [el("p", { "class": "help", text: t("admin.audit.help") }), run, out], "audit")];
  };

  // Exports: one entry per kind; the export of other reports slots in here.
  var exportKinds = [{ key: "postings", path: "/export.csv" }, { key: "datev", path: "/export/datev.csv" }, { key: "report", path: "/export/report.csv" }];
  views.export = async function () {
    var now = new Date(), first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)), last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    function iso(d) { return d.toISOString().slice(0, 10); }
    return exportKinds.map(function (k) {
      var from = el("input", { type: "date", value: iso(first) }), to = el("input", { type: "date", value: iso(last) });
      var fromName = k.key + "_from", toName = k.key + "_to";
      var form = el("form", { "class": "form-inline", novalidate: true }, [field(fromName, t("admin.export.from"), from), field(toName, t("admin.export.to"), to, t("admin.export.to_help")),
        button(t("admin.export.download"), null, { type: "submit", cls: "btn primary" })]);
      form.addEventListener("submit", async function (ev) {
        ev.preventDefault(); clearErrors(form);
        if (!from.value || !to.value || to.value <= from.value) { setFieldError(form, toName, t("admin.err.period")); to.focus(); return; }
        try {
          var token = await app.idToken();
          var r = await fetch(base + k.path + "?from=" + from.value + "&to=" + to.value, { headers: { "Authorization": "Bearer " + token } });
          if (!r.ok) { var d = await r.json().catch(function () { return {}; }); throw Object.assign(new Error((d.error && d.error.message) || "HTTP " + r.status), { code: d.error && d.error.code }); }
          var blob = await r.blob(), a = el("a", { href: URL.createObjectURL(blob), download: "creditbridge-" + k.key + "-" + from.value + "-" + to.value + ".csv" });
          document.body.appendChild(a); a.click(); a.remove(); toast(t("admin.export.done"));
        } catch (e) { setFieldError(form, toName, apiError(e)); }
      });
      return card(t("admin.export." + k.key), [el("p", { "class": "help", text: t("admin.export." + k.key + ".help") }), form], "export-" + k.key);
    });
  };

  // Program review: months, rates, top partners, and the "what if"
  // simulation of edited rules over past orders (nothing is booked).
  function pct(r) { return r == null ? "–" : num((parseFloat(r) * 100).toFixed(1)) + "\u00a0%"; }
  views.review = async function () {
    var r = await call("GET", base + "/review?months=12");
    var cur = r.currency;
    var months = table([{ label: t("admin.review.col.month") }, { label: t("admin.review.col.issued"), num: true }, { label: t("admin.review.col.redeemed"), num: true },
      { label: t("admin.review.col.expired"), num: true }, { label: t("admin.review.col.breakage"), num: true }, { label: t("admin.review.col.liability"), num: true }],
      r.months.slice().reverse().map(function (m) {
        return [monthName(m.month), money(cur, m.issued), money(cur, m.redeemed), money(cur, m.expired), pct(m.breakage_rate), money(cur, m.liability_end)];
      }), t("admin.review.none"));
    function stat(label, value, sub) {
      return el("div", { "class": "stat" }, [el("dt", { text: label }), el("dd", { text: value }), sub ? el("dd", { "class": "help", text: sub }) : null]);
    }
    var rates = el("dl", { "class": "stats", id: "cb-review-rates" }, [
      stat(t("admin.review.redemption_rate"), pct(r.redemption_rate)),
      stat(t("admin.review.repeat_with"), pct(r.repeat_with_credit.rate), t("admin.review.customers", r.repeat_with_credit.repeat, r.repeat_with_credit.customers)),
      stat(t("admin.review.repeat_without"), pct(r.repeat_without_credit.rate), t("admin.review.customers", r.repeat_without_credit.repeat, r.repeat_without_credit.customers))]);
    var partners = table([{ label: t("admin.review.col.partner") }, { label: t("admin.review.col.earned"), num: true }],
      r.top_partners.map(function (p) { return [p.name ? p.name + " (" + p.partner_id + ")" : p.partner_id, money(cur, p.earned)]; }), t("admin.review.no_partners"));
    var csvBtn = button(t("admin.review.csv"), async function () {
      try {
        var text = await callCSV(base + "/review.csv?months=12");
        var a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: "creditbridge-review.csv" });
        document.body.appendChild(a); a.click(); a.remove(); toast(t("admin.export.done"));
      } catch (e) { fail(e); }
    }, { cls: "btn secondary" });
    // What if: the rules as CSV, edited here, replayed over the last days.
    var days = el("input", { inputmode: "numeric", autocomplete: "off", value: "30" });
    var rules = el("textarea", { rows: "8", spellcheck: "false", "class": "mono" });
    rules.value = await callCSV(base + "/rules.csv");
    var out = el("div", { id: "cb-sim", "aria-live": "polite" });
    var form = el("form", { novalidate: true, id: "cb-sim-form" }, [field("sim_days", t("admin.review.days"), days, t("admin.review.days_help")),
      field("sim_rules", t("admin.review.rules"), rules, t("admin.review.rules_help")),
      el("div", { "class": "actions" }, [button(t("admin.review.simulate"), null, { type: "submit", cls: "btn primary" })])]);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault(); clearErrors(form);
      if (!/^[0-9]+$/.test(days.value.trim()) || +days.value < 1 || +days.value > 366) { setFieldError(form, "sim_days", t("admin.err.whole", 1, 366)); days.focus(); return; }
      out.replaceChildren(el("p", { "class": "muted", text: t("admin.loading") }));
      try {
        var s = await call("POST", base + "/review/simulate", { days: parseInt(days.value, 10), csv: rules.value });
        var sc = s.currency;
        out.replaceChildren(el("p", { id: "cb-sim-summary", text: t("admin.review.sim_summary", s.orders, money(sc, s.current), money(sc, s.simulated), money(sc, s.difference)) }),
          table([{ label: t("admin.review.col.who") }, { label: t("admin.review.col.current"), num: true }, { label: t("admin.review.col.simulated"), num: true }, { label: t("admin.review.col.difference"), num: true }],
            s.by_beneficiary.map(function (l) { return [beneficiaryLabel(l.beneficiary), money(sc, l.current), money(sc, l.simulated), money(sc, l.difference)]; }), t("admin.review.sim_none")),
          el("p", { "class": "help", text: t("admin.review.sim_note") }));
      } catch (e) {
        out.replaceChildren();
        var bad = e.data && e.data.lines;
        if (bad && bad.length) {
          setFieldError(form, "sim_rules", bad.map(function (l) { return t("admin.review.line", l.line) + " " + (l.errors || []).map(importError).join(" · "); }).join("; "));
        } else { setFieldError(form, /line|rule|target|mode|value/.test(e.message) ? "sim_rules" : "sim_days", apiError(e)); }
      }
    });
    return [card(t("admin.review.title"), [el("p", { "class": "help", text: t("admin.review.help", r.from, r.to) }), rates, months, el("div", { "class": "actions" }, [csvBtn])], "review"),
      card(t("admin.review.partners"), [partners], "review-partners"),
      card(t("admin.review.whatif"), [el("p", { "class": "help", text: t("admin.review.whatif_help") }), form, out], "review-sim")];
  };
  function monthName(ym) {
    var p = ym.split("-");
    return new Date(Date.UTC(+p[0], +p[1] - 1, 15)).toLocaleDateString(lang === "de" ? "de-DE" : "en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
  }

  // ---- router ----
  var prefix = location.pathname.replace(/\/(overview|rules|partners|customers|settings|review|failed|audit|export)\/?$/, "").replace(/\/$/, "");
  function viewFromPath() { var m = location.pathname.match(/\/(overview|rules|partners|customers|settings|review|failed|audit|export)\/?$/); return m ? m[1] : "overview"; }
  var nav = document.getElementById("cb-nav");
  order.forEach(function (v) {
    var a = el("a", { href: prefix + "/" + v + location.search, "data-view": v, text: t("admin.nav." + v) });
    a.addEventListener("click", function (ev) { ev.preventDefault(); history.pushState({}, "", a.href); render(v); });
    nav.appendChild(a);
  });
  window.addEventListener("popstate", function () { render(viewFromPath()); });
  var rendering = 0;
  async function render(v) {
    var my = ++rendering;
    Array.prototype.forEach.call(nav.children, function (a) { if (a.getAttribute("data-view") === v) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); } });
    document.getElementById("cb-title").textContent = t("admin.nav." + v);
    document.title = t("admin.nav." + v) + " · creditbridge";
    try {
      var parts = await views[v]();
      if (my !== rendering) { return; }
      main.replaceChildren.apply(main, parts); showBanner("");
    } catch (e) { if (my === rendering) { main.replaceChildren(); showBanner(apiError(e)); } }
  }
  document.getElementById("cb-save").addEventListener("click", function () { var f = document.getElementById("cb-settings"); if (f) { saveSettings(f); } });
  document.getElementById("cb-discard").addEventListener("click", function () { if (app && app.saveBar) { app.saveBar.hide("cb-save-bar"); } render("settings"); });

  if (!app || !app.idToken) { showBanner(t("admin.err.no_app_bridge")); return; }
  call("POST", "/shopify/session").then(function (s) {
    base = "/api/v1/shops/" + encodeURIComponent(s.shop_id); currency = s.currency; shop = s;
    document.getElementById("cb-shop").textContent = s.name || s.domain;
    return render(viewFromPath());
  }).catch(function (e) { showBanner(apiError(e)); });
})();
