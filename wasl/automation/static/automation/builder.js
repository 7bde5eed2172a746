// The rule builder: keeps the trigger, the condition groups and the actions of a rule in
// Alpine state and writes them as the JSON document the API accepts into hidden fields.
(function () {
  "use strict";

  var TRIGGER_FIELDS = {
    record_created: ["entity"],
    field_changed: ["entity", "field", "from_value", "to_value"],
    stage_entered: ["stage_id"],
    stage_left: ["stage_id"],
    deal_won: ["pipeline_id"],
    deal_lost: ["pipeline_id"],
    lead_created: ["source"],
    task_overdue: ["after_hours"],
    date_reached: ["entity", "field", "offset_days", "at", "yearly"],
    no_activity: ["entity", "days"],
    schedule: ["cron", "entity"]
  };
  var OPTIONAL = ["from_value", "to_value", "pipeline_id", "source"];
  var INTEGERS = ["after_hours", "offset_days", "days"];
  var NUMERIC = /^-?\d+(\.\d+)?$/;
  // Fields whose errors show under their own input; the others are listed per section.
  var SHOWN = ["type", "entity", "field", "from_value", "to_value", "stage_id", "pipeline_id",
    "source", "after_hours", "offset_days", "at", "days", "cron", "kind", "subject", "body",
    "value", "tag", "address", "number", "text", "message", "webhook_id", "template",
    "user_id", "team_id", "role", "recipients"];

  function blankTrigger() {
    return { type: "lead_created", entity: "contact", field: "", from_value: "", to_value: "",
      stage_id: "", pipeline_id: "", source: "", after_hours: 0, offset_days: 0, at: "09:00",
      yearly: false, days: 7, cron: "0 9 * * 1" };
  }

  function blankAssign() {
    return { to: "owner", user_id: "", role: "rep", team_id: "", strategy: "round_robin" };
  }

  function blankAction(type) {
    return { type: type || "create_activity", kind: "task", subject: "", body: "",
      assign: blankAssign(), hasDue: false, due: { amount: 1, unit: "days", business_hours: false },
      field: "", value: "", stage_id: "", tag: "", to: "record", address: "", number: "",
      text: "", recipients: [{ to: "owner", user_id: "", role: "manager" }], message: "",
      webhook_id: "", template: "" };
  }

  function text(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(text).join(", ");
    return String(value);
  }

  function fromAction(action) {
    var out = Object.assign(blankAction(action.type), action);
    out.assign = Object.assign(blankAssign(), action.assign || {});
    out.hasDue = !!action.due;
    out.due = Object.assign({ amount: 1, unit: "days", business_hours: false }, action.due || {});
    out.recipients = (action.recipients || [{ to: "owner" }]).map(function (r) {
      return Object.assign({ to: "owner", user_id: "", role: "manager" }, r);
    });
    out.value = text(action.value);
    return out;
  }

  function integer(value) {
    var number = parseInt(value, 10);
    return isNaN(number) ? value : number;
  }

  function cleanTrigger(trigger) {
    var out = { type: trigger.type };
    (TRIGGER_FIELDS[trigger.type] || []).forEach(function (name) {
      var value = trigger[name];
      if (INTEGERS.indexOf(name) >= 0) value = integer(value);
      var empty = value === "" || value === null || value === undefined;
      if (empty && (OPTIONAL.indexOf(name) >= 0 || trigger.type === "schedule")) return;
      out[name] = empty ? "" : value;
    });
    return out;
  }

  function cleanAssign(assign) {
    var out = { to: assign.to };
    if (assign.to === "user") out.user_id = assign.user_id;
    if (assign.to === "role") {
      out.role = assign.role;
      out.strategy = assign.strategy;
      if (assign.team_id) out.team_id = assign.team_id;
    }
    return out;
  }

  function cleanAction(a) {
    var out = { type: a.type };
    switch (a.type) {
      case "create_activity":
        out.kind = a.kind;
        out.subject = a.subject;
        if (a.body) out.body = a.body;
        out.assign = cleanAssign(a.assign);
        if (a.hasDue) {
          out.due = { amount: integer(a.due.amount), unit: a.due.unit,
            business_hours: !!a.due.business_hours };
        }
        break;
      case "assign_owner":
        out.assign = cleanAssign(a.assign);
        break;
      case "update_field":
        out.field = a.field;
        out.value = a.value;
        break;
      case "move_stage":
        out.stage_id = a.stage_id;
        break;
      case "add_tag":
      case "remove_tag":
        out.tag = a.tag;
        break;
      case "send_email":
        out.to = ["record", "owner", "address"].indexOf(a.to) >= 0 ? a.to : "record";
        if (out.to === "address") out.address = a.address;
        out.subject = a.subject;
        out.body = a.body;
        break;
      case "send_sms":
        out.to = a.to === "number" ? "number" : "record";
        if (out.to === "number") out.number = a.number;
        out.text = a.text;
        break;
      case "notify":
        out.recipients = a.recipients.map(function (r) {
          var one = { to: r.to };
          if (r.to === "user") one.user_id = r.user_id;
          if (r.to === "role") one.role = r.role;
          return one;
        });
        out.message = a.message;
        break;
      case "webhook":
        out.webhook_id = a.webhook_id;
        break;
      case "generate_document":
        out.template = a.template;
        break;
    }
    return out;
  }

  function blankRow() {
    return { field: "", op: "eq", value: "" };
  }

  function toRow(comparison) {
    return { field: comparison.field || "", op: comparison.op || "eq", value: text(comparison.value) };
  }

  function cleanValue(row) {
    if (row.op === "is_empty" || row.op === "is_not_empty") return undefined;
    if (row.op === "in" || row.op === "not_in") {
      return row.value.split(/[,،]/).map(function (v) { return v.trim(); })
        .filter(function (v) { return v !== ""; });
    }
    if (["gt", "gte", "lt", "lte"].indexOf(row.op) >= 0 && NUMERIC.test(row.value.trim())) {
      return Number(row.value.trim());
    }
    return row.value;
  }

  function cleanRow(row) {
    var out = { field: row.field.trim(), op: row.op };
    var value = cleanValue(row);
    if (value !== undefined) out.value = value;
    return out;
  }

  function joinOf(node) {
    if (!node || typeof node !== "object") return null;
    if (Array.isArray(node.all)) return "all";
    if (Array.isArray(node.any)) return "any";
    return null;
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("ruleBuilder", function () {
      return {
        trigger: blankTrigger(),
        join: "all",
        groups: [],
        actions: [],
        errors: {},
        options: {},
        deep: false,

        init: function () {
          var self = this;
          var data = JSON.parse(document.getElementById("rule-builder-data").textContent);
          this.options = data.options || {};
          this.errors = data.errors || {};
          var trigger = Object.assign(blankTrigger(), data.trigger || {});
          ["from_value", "to_value"].forEach(function (name) { trigger[name] = text(trigger[name]); });
          this.trigger = trigger;
          this.loadConditions(data.conditions);
          this.actions = (data.actions || []).map(fromAction);
          this.$watch("documentText", function () {
            self.$nextTick(function () {
              self.$el.dispatchEvent(new CustomEvent("rule-changed", { bubbles: true }));
            });
          });
        },

        loadConditions: function (condition) {
          var self = this;
          this.groups = [];
          var key = joinOf(condition);
          if (!condition || (key && condition[key].length === 0)) return;
          if (!key) {
            this.groups = [{ join: "all", rows: [toRow(condition)], kept: [] }];
            return;
          }
          this.join = key;
          var loose = null;
          condition[key].forEach(function (child) {
            var inner = joinOf(child);
            if (!inner) {
              // Neighbouring comparisons form one group joined like the whole.
              if (!loose) {
                loose = { join: key, rows: [], kept: [] };
                self.groups.push(loose);
              }
              loose.rows.push(toRow(child));
              return;
            }
            loose = null;
            var rows = [];
            // Conditions nested deeper than a group's rows are kept exactly as written
            // (shown read-only, in words in the preview) so saving here never drops them.
            var kept = [];
            child[inner].forEach(function (item) {
              if (joinOf(item)) {
                self.deep = true;
                kept.push(item);
              } else rows.push(toRow(item));
            });
            self.groups.push({ join: inner, rows: rows, kept: kept });
          });
        },

        get triggerText() { return JSON.stringify(cleanTrigger(this.trigger)); },

        get conditionsText() {
          var groups = this.groups.filter(function (g) {
            return g.rows.length || g.kept.length;
          }).map(function (g) {
            var rows = g.rows.map(cleanRow).concat(g.kept);
            if (rows.length === 1) return rows[0];
            var out = {};
            out[g.join] = rows;
            return out;
          });
          if (!groups.length) return "";
          if (groups.length === 1 && joinOf(groups[0])) return JSON.stringify(groups[0]);
          var out = {};
          out[this.join] = groups;
          return JSON.stringify(out);
        },

        get actionsText() { return JSON.stringify(this.actions.map(cleanAction)); },

        get documentText() { return this.triggerText + this.conditionsText + this.actionsText; },

        addGroup: function () { this.groups.push({ join: "all", rows: [blankRow()], kept: [] }); },
        dropKept: function (group) {
          group.kept = [];
          this.deep = this.groups.some(function (g) { return g.kept.length; });
        },
        keptText: function (group) { return group.kept.map(function (k) { return JSON.stringify(k); }).join("\n"); },
        removeGroup: function (index) { this.groups.splice(index, 1); },
        addRow: function (group) { group.rows.push(blankRow()); },
        removeRow: function (group, index) {
          group.rows.splice(index, 1);
        },
        needsValue: function (row) { return row.op !== "is_empty" && row.op !== "is_not_empty"; },

        addAction: function () { this.actions.push(blankAction()); },
        removeAction: function (index) { this.actions.splice(index, 1); },
        moveAction: function (index, step) {
          var target = index + step;
          if (target < 0 || target >= this.actions.length) return;
          var moved = this.actions.splice(index, 1)[0];
          this.actions.splice(target, 0, moved);
        },
        addRecipient: function (action) { action.recipients.push({ to: "owner", user_id: "", role: "manager" }); },
        removeRecipient: function (action, index) { action.recipients.splice(index, 1); },

        dateFields: function () { return (this.options.date_fields || {})[this.trigger.entity] || []; },

        e: function (path) { return (this.errors[path] || []).join(" "); },
        rest: function (prefix) {
          var found = [];
          var errors = this.errors;
          Object.keys(errors).forEach(function (path) {
            if (path !== prefix && path.indexOf(prefix + ".") !== 0) return;
            var last = path.split(".").pop();
            if (path !== prefix && SHOWN.indexOf(last) >= 0) return;
            found = found.concat(errors[path]);
          });
          return found;
        }
      };
    });
  });
})();
