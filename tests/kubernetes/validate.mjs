// SPDX-License-Identifier: GPL-2.0
// tests/kubernetes/validate's checks: node validate.mjs DIR SIPKA NODE_MODULES.
// Prints one line per document and per finding; exits 1 on any finding.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, sipka, nm] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(nm, p)).href);
const YAML = await load('yaml/dist/index.js');
const models = await load('@kubernetes/client-node/dist/gen/models/all.js');

// apiVersion/kind: the kubernetes-models class, and the client-node type of
// its fields (null: a custom resource, its own schema only).
const kinds = {
	'v1/Namespace': ['kubernetes-models/v1/Namespace.js', 'V1Namespace'],
	'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap.js', 'V1ConfigMap'],
	'v1/Service': ['kubernetes-models/v1/Service.js', 'V1Service'],
	'apps/v1/DaemonSet': ['kubernetes-models/apps/v1/DaemonSet.js', 'V1DaemonSet'],
	'monitoring.coreos.com/v1/ServiceMonitor': [
		'@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js',
		null,
	],
};

let failed = 0;
const fail = (where, what) => {
	failed++;
	console.log(`FAIL ${where}: ${what}`);
};

// Fields the API does not know: the API server drops them (or refuses them
// under strict field validation), so a typo ("hostPid") would pass unseen.
function unknownFields(value, type, path, where) {
	if (value === null || typeof value !== 'object' || !type) return;
	const array = /^Array<(.+)>$/.exec(type);
	if (array) {
		if (Array.isArray(value))
			value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, where));
		return;
	}
	const typeMap = typeMapOf(type);
	if (!typeMap) return; // a map, IntOrString, Quantity, ...
	for (const key of Object.keys(value)) {
		const attr = typeMap.find((a) => a.baseName === key);
		if (!attr) fail(where, `${path}.${key}: no such field in ${type}`);
		else unknownFields(value[key], attr.type, `${path}.${key}`, where);
	}
}

function typeMapOf(type) {
	const cls = models[type];
	return cls && typeof cls.getAttributeTypeMap === 'function' ? cls.getAttributeTypeMap() : null;
}

// Every privilege says why: a comment in the lines right above it, or on
// its own lines; an item of a list may have it on the list's key instead.
function commented(doc, text, path) {
	for (let i = path.length; i > 0; i--) {
		const parent = i > 1 ? doc.getIn(path.slice(0, i - 1), true) : doc.contents;
		const key = path[i - 1];
		let start, end;
		if (YAML.isSeq(parent)) {
			[start, , end] = parent.items[key].range;
		} else {
			const pair = parent.items.find((p) => p.key?.value === key);
			start = pair.key.range[0];
			end = (pair.value ?? pair.key).range[2];
		}
		const lineStart = text.lastIndexOf('\n', start - 1) + 1;
		// The list's key: its own line only (a comment inside the list is an item's).
		const upTo = i < path.length ? text.indexOf('\n', start) : text.indexOf('\n', end - 1);
		const own = text.slice(lineStart, upTo + 1);
		const above = text.slice(0, lineStart).split('\n').slice(0, -1).reverse();
		if (/#/.test(own) || /^\s*#/.test(above[0] ?? '')) return true;
		if (!YAML.isSeq(parent)) return false;
	}
	return false;
}

function privileges(doc, text, obj, where) {
	const pod = ['spec', 'template', 'spec'];
	const spec = obj.spec?.template?.spec;
	if (!spec) return;
	const need = [];
	for (const k of ['hostPID', 'hostNetwork', 'hostIPC'])
		if (spec[k]) need.push([...pod, k]);
	(spec.volumes ?? []).forEach((v, i) => v.hostPath && need.push([...pod, 'volumes', i]));
	for (const list of ['initContainers', 'containers'])
		(spec[list] ?? []).forEach((c, i) => {
			const sc = c.securityContext ?? {};
			const at = [...pod, list, i, 'securityContext'];
			if (sc.privileged) need.push([...at, 'privileged']);
			if (sc.runAsUser === 0) need.push([...at, 'runAsUser']);
			for (const k of ['seccompProfile', 'appArmorProfile', 'seLinuxOptions'])
				if (sc[k]) need.push([...at, k]);
			(sc.capabilities?.add ?? []).forEach((_, j) =>
				need.push([...at, 'capabilities', 'add', j]));
		});
	for (const path of need)
		if (!commented(doc, text, path)) fail(where, `${path.join('.')}: a privilege without a comment saying why`);
	return need.length;
}

// The containers' arguments against sipka's option tables.
const help = JSON.parse(execFileSync(sipka, ['-j', 'help'], { encoding: 'utf8' }));
function args(obj, where) {
	const spec = obj.spec?.template?.spec;
	for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
		const a = c.args ?? [];
		const opts = (o) => (o ?? []).flatMap((x) => [x.long, x.short].filter(Boolean).map((n) => [n, x]));
		const global = new Map(opts(help.global_options));
		let cmd = null, i = 0;
		for (; i < a.length; i++) {
			const o = global.get(a[i]);
			if (o) { i += o.value ? 1 : 0; continue; }
			cmd = help.commands.find((x) => x.name === a[i]);
			break;
		}
		if (!cmd) { fail(where, `container ${c.name}: no sipka command in ${JSON.stringify(a)}`); continue; }
		const own = new Map(opts(cmd.options));
		for (i++; i < a.length; i++) {
			const o = own.get(a[i]) ?? global.get(a[i]);
			if (!o) fail(where, `container ${c.name}: sipka ${cmd.name} has no option ${a[i]}`);
			else if (o.value && !o.optional) i++;
		}
	}
}

function configs(obj, where) {
	for (const [name, text] of Object.entries(obj.data ?? {})) {
		if (!name.endsWith('.conf')) continue;
		const tmp = mkdtempSync(join(tmpdir(), 'sipka-k8s-'));
		try {
			writeFileSync(join(tmp, name), text);
			execFileSync(sipka, ['config', 'check', join(tmp, name)], { stdio: 'pipe' });
		} catch (e) {
			fail(where, `data.${name}: sipka config check: ${(e.stderr || e.message).toString().trim()}`);
		} finally {
			rmSync(tmp, { recursive: true });
		}
	}
}

const files = (d) => readdirSync(d).flatMap((n) => {
	const p = join(d, n);
	return statSync(p).isDirectory() ? files(p) : /\.ya?ml$/.test(n) ? [p] : [];
});
let docs = 0;
for (const file of (statSync(dir).isDirectory() ? files(dir) : [dir]).sort()) {
	const text = readFileSync(file, 'utf8');
	for (const doc of YAML.parseAllDocuments(text)) {
		const obj = doc.toJS();
		const where = `${relative(process.cwd(), file)} ${obj?.kind}/${obj?.metadata?.name}`;
		const before = failed;
		docs++;
		if (doc.errors.length) { fail(where, doc.errors.join('; ')); continue; }
		const kind = kinds[`${obj.apiVersion}/${obj.kind}`];
		if (!kind) { fail(where, `no schema here for ${obj.apiVersion} ${obj.kind}`); continue; }
		const { [obj.kind]: Model } = await load(kind[0]);
		try {
			new Model(obj).validate();
		} catch (e) {
			fail(where, e.message);
		}
		unknownFields(obj, kind[1], obj.kind, where);
		const n = privileges(doc, text, obj, where);
		args(obj, where);
		configs(obj, where);
		if (failed === before)
			console.log(`ok   ${where}${n ? ` (${n} privileges, each commented)` : ''}`);
	}
}
console.log(`kubernetes: ${docs} documents, ${failed} findings`);
process.exit(failed || !docs ? 1 : 0);
