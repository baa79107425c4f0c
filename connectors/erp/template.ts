/**
 * The small template language of the REST adapter's YAML: `{{ path | filter:arg | ... }}` over a context such as
 * `{ params, action, vars }`. A string that is exactly one `{{…}}` keeps the value's type (a number stays a number);
 * `{{…}}` inside a longer string is interpolated as text. Pure: no IO, no clock.
 *
 * Filters: `default:X`, `truncate:N`, `upper`, `lower`, `string`, `number`, `json`, `map:a=b,c=d` (value lookup;
 * an unmapped value is an error unless `default` follows), `required` (fail when missing).
 *
 * @example render({ Batch: '{{params.lot}}', Qty: '{{params.quantity | string}}' }, { params: { lot: 'L1', quantity: 5 } })
 *   // → { Batch: 'L1', Qty: '5' }
 */

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** A value the template left out: an object key whose value is missing disappears from the body. */
const MISSING: unique symbol = Symbol('missing');
type Value = unknown | typeof MISSING;

const WHOLE = /^\{\{\s*([^{}]+?)\s*\}\}$/;
const ANY = /\{\{\s*([^{}]+?)\s*\}\}/g;

function lookup(context: Record<string, unknown>, path: string): Value {
  let current: unknown = context;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return MISSING;
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? MISSING : current;
}

function applyFilter(value: Value, filter: string, expression: string): Value {
  const at = filter.indexOf(':');
  const name = (at === -1 ? filter : filter.slice(0, at)).trim();
  const argument = at === -1 ? '' : filter.slice(at + 1).trim();
  switch (name) {
    case 'default':
      return value === MISSING || value === '' ? argument : value;
    case 'required':
      if (value === MISSING) throw new TemplateError(`${expression}: the value is required but missing`);
      return value;
    case 'truncate':
      return value === MISSING ? value : String(value).slice(0, Number(argument) || 0);
    case 'upper':
      return value === MISSING ? value : String(value).toUpperCase();
    case 'lower':
      return value === MISSING ? value : String(value).toLowerCase();
    case 'string':
      return value === MISSING ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'json':
      return value === MISSING ? value : JSON.stringify(value);
    case 'number': {
      if (value === MISSING) return value;
      const number = Number(value);
      if (!Number.isFinite(number)) throw new TemplateError(`${expression}: ${JSON.stringify(value)} is not a number`);
      return number;
    }
    case 'map': {
      if (value === MISSING) return value;
      const table = new Map(
        argument
          .split(',')
          .map((pair) => pair.split('=').map((part) => part.trim()))
          .filter((pair): pair is [string, string] => pair.length === 2),
      );
      const mapped = table.get(String(value));
      return mapped === undefined ? MISSING : mapped;
    }
    default:
      throw new TemplateError(`${expression}: unknown filter "${name}"`);
  }
}

function evaluate(expression: string, context: Record<string, unknown>): Value {
  const [path, ...filters] = expression.split('|').map((part) => part.trim());
  let value: Value = path ? lookup(context, path) : MISSING;
  for (const filter of filters) value = applyFilter(value, filter, expression);
  return value;
}

function renderValue(template: unknown, context: Record<string, unknown>, encode?: (text: string) => string): Value {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole && !encode) return evaluate(whole[1]!, context);
    let missing: string | null = null;
    const text = template.replace(ANY, (_match, expression: string) => {
      const value = evaluate(expression, context);
      if (value === MISSING) {
        missing = expression;
        return '';
      }
      const textValue = typeof value === 'object' ? JSON.stringify(value) : String(value);
      return encode ? encode(textValue) : textValue;
    });
    if (missing !== null) throw new TemplateError(`{{${missing}}} has no value inside "${template}"`);
    return text;
  }
  if (Array.isArray(template)) {
    return template.map((item) => renderValue(item, context, encode)).filter((item) => item !== MISSING);
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(template)) {
      const value = renderValue(item, context, encode);
      if (value !== MISSING) out[key] = value;
    }
    return out;
  }
  return template;
}

/** Render a body template (any JSON shape). A key whose whole-value template is missing is left out. */
export function render(template: unknown, context: Record<string, unknown>): unknown {
  const value = renderValue(template, context);
  return value === MISSING ? null : value;
}

/** Render a URL or path template: every substituted value is URL-encoded, and a missing value is an error. */
export function renderUrl(template: string, context: Record<string, unknown>): string {
  return renderValue(template, context, encodeURIComponent) as string;
}

/**
 * Read a value from a parsed response by a dotted path (`d.MaintenanceNotification`, `items.0.id`). Returns undefined
 * when any step is missing.
 */
export function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.').filter(Boolean)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
