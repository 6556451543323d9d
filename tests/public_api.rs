//! The public API, checked against the committed listing `tests/public-api.txt`.
//!
//! The listing is rendered from rustdoc's JSON output (what users can reach, after macro
//! expansion and re-exports): every public path, and for each item its signature, fields,
//! variants, trait items and trait implementations. A change to the public API fails this test
//! until the listing is updated, so that every change is deliberate and reviewed in the diff.
//!
//! Update the listing (after a deliberate change) with:
//!
//! ```text
//! UPDATE_PUBLIC_API=1 cargo test --test public_api
//! ```
//!
//! The listing covers the default features plus [`LISTED_FEATURES`]; the unstable `internals`
//! feature is outside semver and never listed. rustdoc's JSON output is unstable, so the test
//! runs it with `RUSTC_BOOTSTRAP=1` and pins the format version it can read
//! ([`FORMAT_VERSION`]): a toolchain with another format fails here with a clear message, and
//! the renderer below is what to adapt.
//!
//! The test also checks that every public item of the `activation`, `init`, `loss` and `nn`
//! modules is re-exported at the crate root (explicitly: the root has no glob re-exports),
//! except [`KEPT_IN_MODULE`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The rustdoc JSON format this renderer reads (rustdoc of Rust 1.95).
const FORMAT_VERSION: u64 = 57;

/// Optional features whose API is part of the listing (features that only add integrations
/// with other crates belong here; `internals` never does).
const LISTED_FEATURES: &[&str] = &[];

/// Items of `activation`, `init`, `loss` and `nn` deliberately not re-exported at the root.
/// `init::Distribution` would collide with `rand::distr::Distribution` in a glob import.
const KEPT_IN_MODULE: &[&str] = &["Distribution"];

/// The modules whose items all appear at the root too.
const FLATTENED_MODULES: &[&str] = &["activation", "init", "loss", "nn"];

const LISTING: &str = "tests/public-api.txt";

/// Compiler-internal auto and marker traits, unnameable on stable: listing them would only
/// make the listing depend on the toolchain.
const UNLISTED_TRAITS: &[&str] = &["Freeze", "UnsafeUnpin", "StructuralPartialEq"];

#[test]
fn public_api_matches_the_committed_listing() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = Crate::new(rustdoc_json(manifest));
    let paths = krate.public_paths();
    check_root_reexports(&paths);
    let listing = krate.listing(&paths);
    let file = manifest.join(LISTING);
    if std::env::var_os("UPDATE_PUBLIC_API").is_some() {
        std::fs::write(&file, &listing).expect("write the public-api listing");
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if committed != listing {
        let old: BTreeSet<&str> = committed.lines().collect();
        let new: BTreeSet<&str> = listing.lines().collect();
        let mut diff = String::new();
        for line in old.difference(&new) {
            diff.push_str(&format!("- {line}\n"));
        }
        for line in new.difference(&old) {
            diff.push_str(&format!("+ {line}\n"));
        }
        panic!(
            "the public API differs from {LISTING} (- committed, + now):\n{diff}\n\
             If the change is deliberate, record it with\n    \
             UPDATE_PUBLIC_API=1 cargo test --test public_api\n\
             and list it in CHANGELOG.md (breaking changes with their migration)."
        );
    }
}

/// Runs rustdoc with JSON output in a target directory of its own (the outer `cargo test`
/// holds the lock on the usual one) and parses the result.
fn rustdoc_json(manifest: &Path) -> Value {
    let target_dir = manifest.join("target").join("public-api");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(manifest)
        .args(["rustdoc", "--lib", "--quiet", "--target-dir"])
        .arg(&target_dir);
    if !LISTED_FEATURES.is_empty() {
        command.args(["--features", &LISTED_FEATURES.join(",")]);
    }
    command
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .args(["--cap-lints", "allow"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTDOCFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");
    let output = command.output().expect("run cargo rustdoc");
    assert!(
        output.status.success(),
        "cargo rustdoc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: PathBuf = target_dir.join("doc").join("nninit.json");
    let text = std::fs::read_to_string(&json).expect("read rustdoc's JSON output");
    let value: Value = serde_json::from_str(&text).expect("parse rustdoc's JSON output");
    let version = value["format_version"].as_u64().unwrap_or(0);
    assert_eq!(
        version, FORMAT_VERSION,
        "this toolchain's rustdoc writes JSON format {version}; tests/public_api.rs reads \
         {FORMAT_VERSION}: adapt its renderer (and regenerate the listing)"
    );
    value
}

/// Every public path of the crate and the item it names: `(path, item id)`, in the order the
/// modules declare them.
type Paths = Vec<(String, String)>;

fn check_root_reexports(paths: &Paths) {
    let at_root: BTreeSet<&str> = paths
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("nninit::"))
        .filter(|rest| !rest.contains("::"))
        .collect();
    let mut missing = Vec::new();
    for (path, _) in paths {
        let Some(rest) = path.strip_prefix("nninit::") else {
            continue;
        };
        let mut parts = rest.split("::");
        let (Some(module), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if FLATTENED_MODULES.contains(&module)
            && !KEPT_IN_MODULE.contains(&name)
            && !at_root.contains(name)
        {
            missing.push(path.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "public items not re-exported at the crate root (add them to the explicit `pub use` \
         lists in src/lib.rs, or to KEPT_IN_MODULE in tests/public_api.rs with a reason): {missing:?}"
    );
}

struct Crate {
    index: serde_json::Map<String, Value>,
    root: String,
}

impl Crate {
    fn new(mut value: Value) -> Crate {
        let root = id_string(&value["root"]);
        let index = match value["index"].take() {
            Value::Object(index) => index,
            _ => panic!("rustdoc JSON without an index"),
        };
        Crate { index, root }
    }

    fn item(&self, id: &str) -> Option<&Value> {
        self.index.get(id)
    }

    /// Every reachable public path, from the root module through `pub mod` and `pub use`.
    fn public_paths(&self) -> Paths {
        let mut paths = Vec::new();
        let mut seen_modules = BTreeSet::new();
        self.walk(&self.root.clone(), "nninit", &mut paths, &mut seen_modules);
        paths
    }

    fn walk(&self, module: &str, prefix: &str, paths: &mut Paths, seen: &mut BTreeSet<String>) {
        if !seen.insert(format!("{module}@{prefix}")) {
            return;
        }
        let Some(items) = self
            .item(module)
            .and_then(|m| m["inner"]["module"]["items"].as_array())
        else {
            return;
        };
        for id in items {
            let id = id_string(id);
            let Some(item) = self.item(&id) else { continue };
            if item["visibility"] != "public" {
                continue;
            }
            let inner = &item["inner"];
            if let Some(import) = inner.get("use") {
                let target = id_string(&import["id"]);
                let local = self.item(&target);
                if import["is_glob"] == true {
                    if local.is_some() {
                        self.walk(&target, prefix, paths, seen);
                    }
                    continue;
                }
                let path = format!("{prefix}::{}", import["name"].as_str().unwrap_or("?"));
                match local {
                    Some(target_item) if target_item["inner"].get("module").is_some() => {
                        paths.push((path.clone(), target.clone()));
                        self.walk(&target, &path, paths, seen);
                    }
                    Some(_) => paths.push((path, target)),
                    None => paths.push((
                        path,
                        format!("extern {}", import["source"].as_str().unwrap_or("?")),
                    )),
                }
                continue;
            }
            let path = format!("{prefix}::{}", item["name"].as_str().unwrap_or("?"));
            paths.push((path.clone(), id.clone()));
            if inner.get("module").is_some() {
                self.walk(&id, &path, paths, seen);
            }
        }
    }

    /// The listing: for each item its shortest public path with the full rendering, and every
    /// other path to it as an alias line.
    fn listing(&self, paths: &Paths) -> String {
        let mut canonical: BTreeMap<&str, &str> = BTreeMap::new();
        for (path, id) in paths {
            let entry = canonical.entry(id.as_str()).or_insert(path.as_str());
            if (path.matches("::").count(), path.as_str()) < (entry.matches("::").count(), *entry) {
                *entry = path.as_str();
            }
        }
        let mut blocks: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, id) in paths {
            let block = if let Some(source) = id.strip_prefix("extern ") {
                vec![format!("pub use {path} = {source}")]
            } else if canonical[id.as_str()] != path {
                vec![format!("pub use {path} = {}", canonical[id.as_str()])]
            } else {
                self.render_item(path, id)
            };
            blocks.entry(path.clone()).or_default().extend(block);
        }
        let mut out = String::from(
            "# The public API of nninit, checked by tests/public_api.rs.\n\
             # Regenerate after a deliberate change: UPDATE_PUBLIC_API=1 cargo test --test public_api\n",
        );
        for lines in blocks.values() {
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    fn render_item(&self, path: &str, id: &str) -> Vec<String> {
        let Some(item) = self.item(id) else {
            return vec![format!("{path} (unresolved)")];
        };
        let inner = &item["inner"];
        let attrs = attributes(item);
        let (kind, body) = inner
            .as_object()
            .and_then(|o| o.iter().next())
            .map(|(k, v)| (k.as_str(), v))
            .unwrap_or(("?", &Value::Null));
        let mut lines = Vec::new();
        match kind {
            "module" => lines.push(format!("{attrs}pub mod {path}")),
            "function" => lines.push(format!("{attrs}{}", function(path, body))),
            "struct" => {
                lines.push(format!(
                    "{attrs}pub struct {path}{}{}",
                    generics_params(&body["generics"]),
                    where_clause(&body["generics"])
                ));
                let kind = &body["kind"];
                if let Some(plain) = kind.get("plain") {
                    for field in plain["fields"].as_array().into_iter().flatten() {
                        lines.push(self.field(path, &id_string(field)));
                    }
                    if plain["has_stripped_fields"] == true {
                        lines.push(format!("{path} has private fields"));
                    }
                } else if let Some(tuple) = kind.get("tuple") {
                    for (i, field) in tuple.as_array().into_iter().flatten().enumerate() {
                        if field.is_null() {
                            lines.push(format!("{path}.{i} is private"));
                        } else {
                            lines.push(self.field(path, &id_string(field)));
                        }
                    }
                }
                lines.extend(self.impls(path, &body["impls"]));
            }
            "enum" => {
                lines.push(format!(
                    "{attrs}pub enum {path}{}{}",
                    generics_params(&body["generics"]),
                    where_clause(&body["generics"])
                ));
                for variant in body["variants"].as_array().into_iter().flatten() {
                    lines.extend(self.variant(path, &id_string(variant)));
                }
                lines.extend(self.impls(path, &body["impls"]));
            }
            "trait" => {
                let bounds = bounds(&body["bounds"]);
                let supertraits = if bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {bounds}")
                };
                let dyn_compatible = if body["is_dyn_compatible"] == true {
                    " (dyn-compatible)"
                } else {
                    ""
                };
                lines.push(format!(
                    "{attrs}pub {}trait {path}{}{supertraits}{}{dyn_compatible}",
                    if body["is_unsafe"] == true {
                        "unsafe "
                    } else {
                        ""
                    },
                    generics_params(&body["generics"]),
                    where_clause(&body["generics"])
                ));
                for member in body["items"].as_array().into_iter().flatten() {
                    lines.extend(self.trait_member(path, &id_string(member)));
                }
                for implementation in body["implementations"].as_array().into_iter().flatten() {
                    if let Some(line) = self.trait_impl(&id_string(implementation)) {
                        lines.push(format!("{path} implemented: {line}"));
                    }
                }
            }
            "type_alias" => lines.push(format!(
                "{attrs}pub type {path}{} = {}",
                generics_params(&body["generics"]),
                ty(&body["type"])
            )),
            "constant" => lines.push(format!("{attrs}pub const {path}: {}", ty(&body["type"]))),
            "static" => lines.push(format!("{attrs}pub static {path}: {}", ty(&body["type"]))),
            "macro" => lines.push(format!("{attrs}macro {path}!")),
            other => lines.push(format!("{attrs}{other} {path}")),
        }
        lines
    }

    fn field(&self, owner: &str, id: &str) -> String {
        match self.item(id) {
            Some(field) => format!(
                "{}pub {owner}.{}: {}",
                attributes(field),
                field["name"].as_str().unwrap_or("?"),
                ty(&field["inner"]["struct_field"])
            ),
            None => format!("{owner}: field {id} (unresolved)"),
        }
    }

    fn variant(&self, owner: &str, id: &str) -> Vec<String> {
        let Some(variant) = self.item(id) else {
            return vec![format!("{owner}: variant {id} (unresolved)")];
        };
        let name = format!("{owner}::{}", variant["name"].as_str().unwrap_or("?"));
        let kind = &variant["inner"]["variant"]["kind"];
        let mut lines = Vec::new();
        if let Some(fields) = kind.get("tuple") {
            let types: Vec<String> = fields
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| match self.item(&id_string(f)) {
                    Some(field) => ty(&field["inner"]["struct_field"]),
                    None => "_".into(),
                })
                .collect();
            lines.push(format!("variant {name}({})", types.join(", ")));
        } else if let Some(plain) = kind.get("struct") {
            lines.push(format!("variant {name} {{ .. }}"));
            for field in plain["fields"].as_array().into_iter().flatten() {
                lines.push(self.field(&name, &id_string(field)));
            }
        } else {
            lines.push(format!("variant {name}"));
        }
        lines
    }

    fn trait_member(&self, owner: &str, id: &str) -> Vec<String> {
        let Some(member) = self.item(id) else {
            return vec![];
        };
        let name = format!("{owner}::{}", member["name"].as_str().unwrap_or("?"));
        let inner = &member["inner"];
        let line = if let Some(f) = inner.get("function") {
            let provided = if f["has_body"] == true {
                " (provided)"
            } else {
                ""
            };
            format!("{}{provided}", function(&name, f))
        } else if let Some(c) = inner.get("assoc_const") {
            format!("const {name}: {}", ty(&c["type"]))
        } else if let Some(t) = inner.get("assoc_type") {
            let bounds = bounds(&t["bounds"]);
            if bounds.is_empty() {
                format!("type {name}")
            } else {
                format!("type {name}: {bounds}")
            }
        } else {
            format!("member {name}")
        };
        vec![format!("{}{line}", attributes(member))]
    }

    /// Inherent methods and trait implementations of a type (blanket implementations of other
    /// crates are left out: they follow from the trait bounds).
    fn impls(&self, owner: &str, impls: &Value) -> Vec<String> {
        let mut lines = Vec::new();
        let mut traits = BTreeSet::new();
        for id in impls.as_array().into_iter().flatten() {
            let Some(implementation) = self.item(&id_string(id)) else {
                continue;
            };
            let body = &implementation["inner"]["impl"];
            if !body["blanket_impl"].is_null() {
                continue;
            }
            if body["trait"].is_null() {
                for member in body["items"].as_array().into_iter().flatten() {
                    let Some(member) = self.item(&id_string(member)) else {
                        continue;
                    };
                    if member["visibility"] != "public" {
                        continue;
                    }
                    let name = format!("{owner}::{}", member["name"].as_str().unwrap_or("?"));
                    let inner = &member["inner"];
                    let line = if let Some(f) = inner.get("function") {
                        function(&name, f)
                    } else if let Some(c) = inner.get("assoc_const") {
                        format!("pub const {name}: {}", ty(&c["type"]))
                    } else {
                        format!("pub {name}")
                    };
                    lines.push(format!("{}{line}", attributes(member)));
                }
            } else if let Some(line) = self.trait_impl(&id_string(id)) {
                let name = path_type(&body["trait"]);
                if !UNLISTED_TRAITS.iter().any(|t| name.starts_with(t)) {
                    traits.insert(format!("{owner}: {line}"));
                }
            }
        }
        lines.extend(traits);
        lines
    }

    /// `impl<..> Trait for Type` (negative and auto-trait implementations included).
    fn trait_impl(&self, id: &str) -> Option<String> {
        let body = &self.item(id)?["inner"]["impl"];
        let generics = generics_params(&body["generics"]);
        let negative = if body["is_negative"] == true { "!" } else { "" };
        Some(format!(
            "impl{generics} {negative}{} for {}{}",
            path_type(&body["trait"]),
            ty(&body["for"]),
            where_clause(&body["generics"])
        ))
    }
}

fn id_string(id: &Value) -> String {
    match id {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// `#[non_exhaustive]`, `#[deprecated]` and `#[must_use]`: the attributes that are API.
fn attributes(item: &Value) -> String {
    let mut out = String::new();
    for attr in item["attrs"].as_array().into_iter().flatten() {
        let text = match attr {
            Value::String(s) => s.clone(),
            other => other
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default(),
        };
        if text.contains("non_exhaustive") {
            out.push_str("#[non_exhaustive] ");
        }
    }
    if !item["deprecation"].is_null() {
        out.push_str("#[deprecated] ");
    }
    out
}

fn function(name: &str, f: &Value) -> String {
    let header = &f["header"];
    let mut qualifiers = String::new();
    if header["is_const"] == true {
        qualifiers.push_str("const ");
    }
    if header["is_async"] == true {
        qualifiers.push_str("async ");
    }
    if header["is_unsafe"] == true {
        qualifiers.push_str("unsafe ");
    }
    let sig = &f["sig"];
    let inputs: Vec<String> = sig["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            let name = pair[0].as_str().unwrap_or("_");
            let t = &pair[1];
            if name == "self" {
                match ty(t).as_str() {
                    "Self" => "self".into(),
                    "&Self" => "&self".into(),
                    "&mut Self" => "&mut self".into(),
                    other => format!("self: {other}"),
                }
            } else {
                format!("{name}: {}", ty(t))
            }
        })
        .collect();
    let output = if sig["output"].is_null() {
        String::new()
    } else {
        format!(" -> {}", ty(&sig["output"]))
    };
    format!(
        "pub {qualifiers}fn {name}{}({}){output}{}",
        generics_params(&f["generics"]),
        inputs.join(", "),
        where_clause(&f["generics"])
    )
}

fn generics_params(generics: &Value) -> String {
    let params: Vec<String> = generics["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|param| {
            let name = param["name"].as_str().unwrap_or("?");
            let kind = &param["kind"];
            if let Some(t) = kind.get("type") {
                if t["is_synthetic"] == true {
                    return None;
                }
                let bounds = bounds(&t["bounds"]);
                let default = if t["default"].is_null() {
                    String::new()
                } else {
                    format!(" = {}", ty(&t["default"]))
                };
                Some(if bounds.is_empty() {
                    format!("{name}{default}")
                } else {
                    format!("{name}: {bounds}{default}")
                })
            } else if let Some(c) = kind.get("const") {
                Some(format!("const {name}: {}", ty(&c["type"])))
            } else if let Some(l) = kind.get("lifetime") {
                let outlives: Vec<&str> = l["outlives"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                Some(if outlives.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}: {}", outlives.join(" + "))
                })
            } else {
                Some(name.to_string())
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn where_clause(generics: &Value) -> String {
    let predicates: Vec<String> = generics["where_predicates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|predicate| {
            if let Some(b) = predicate.get("bound_predicate") {
                format!("{}: {}", ty(&b["type"]), bounds(&b["bounds"]))
            } else if let Some(l) = predicate.get("lifetime_predicate") {
                format!(
                    "{}: {}",
                    l["lifetime"].as_str().unwrap_or("?"),
                    l["outlives"]
                )
            } else if let Some(e) = predicate.get("eq_predicate") {
                format!("{} = {}", ty(&e["lhs"]), term(&e["rhs"]))
            } else {
                predicate.to_string()
            }
        })
        .collect();
    if predicates.is_empty() {
        String::new()
    } else {
        format!(" where {}", predicates.join(", "))
    }
}

fn bounds(bounds: &Value) -> String {
    let rendered: Vec<String> = bounds
        .as_array()
        .into_iter()
        .flatten()
        .map(|bound| {
            if let Some(t) = bound.get("trait_bound") {
                let modifier = match t["modifier"].as_str() {
                    Some("maybe") => "?",
                    Some("maybe_const") => "~const ",
                    _ => "",
                };
                format!("{modifier}{}", path_type(&t["trait"]))
            } else if let Some(l) = bound.get("outlives") {
                l.as_str().unwrap_or("?").to_string()
            } else {
                bound.to_string()
            }
        })
        .collect();
    rendered.join(" + ")
}

fn term(term: &Value) -> String {
    if let Some(t) = term.get("type") {
        ty(t)
    } else if let Some(c) = term.get("constant") {
        c["expr"].as_str().unwrap_or("?").to_string()
    } else {
        term.to_string()
    }
}

/// A path as written (its last segment: `crate::error::Result` and `Result` are one name),
/// with its generic arguments.
fn path_type(path: &Value) -> String {
    let name = path["path"].as_str().unwrap_or("?");
    let name = name.rsplit("::").next().unwrap_or(name);
    format!("{name}{}", generic_args(&path["args"]))
}

fn generic_args(args: &Value) -> String {
    if let Some(angle) = args.get("angle_bracketed") {
        let mut parts: Vec<String> = angle["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|arg| {
                if let Some(t) = arg.get("type") {
                    ty(t)
                } else if let Some(l) = arg.get("lifetime") {
                    l.as_str().unwrap_or("?").to_string()
                } else if let Some(c) = arg.get("const") {
                    c["expr"].as_str().unwrap_or("?").to_string()
                } else {
                    "_".to_string()
                }
            })
            .collect();
        for constraint in angle["constraints"].as_array().into_iter().flatten() {
            let name = constraint["name"].as_str().unwrap_or("?");
            let binding = &constraint["binding"];
            if let Some(equality) = binding.get("equality") {
                parts.push(format!("{name} = {}", term(equality)));
            } else if let Some(constraint) = binding.get("constraint") {
                parts.push(format!("{name}: {}", bounds(constraint)));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("<{}>", parts.join(", "))
        }
    } else if let Some(paren) = args.get("parenthesized") {
        let inputs: Vec<String> = paren["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(ty)
            .collect();
        let output = if paren["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", ty(&paren["output"]))
        };
        format!("({}){output}", inputs.join(", "))
    } else {
        String::new()
    }
}

fn ty(t: &Value) -> String {
    let Some((kind, body)) = t.as_object().and_then(|o| o.iter().next()) else {
        return match t.as_str() {
            Some("infer") => "_".into(),
            _ => t.to_string(),
        };
    };
    match kind.as_str() {
        "resolved_path" => path_type(body),
        "generic" | "primitive" => body.as_str().unwrap_or("?").to_string(),
        "borrowed_ref" => {
            let lifetime = body["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutable = if body["is_mutable"] == true {
                "mut "
            } else {
                ""
            };
            format!("&{lifetime}{mutable}{}", ty(&body["type"]))
        }
        "raw_pointer" => {
            let mutable = if body["is_mutable"] == true {
                "mut"
            } else {
                "const"
            };
            format!("*{mutable} {}", ty(&body["type"]))
        }
        "slice" => format!("[{}]", ty(body)),
        "array" => format!(
            "[{}; {}]",
            ty(&body["type"]),
            body["len"].as_str().unwrap_or("?")
        ),
        "tuple" => {
            let items: Vec<String> = body.as_array().into_iter().flatten().map(ty).collect();
            format!("({})", items.join(", "))
        }
        "impl_trait" => format!("impl {}", bounds(body)),
        "dyn_trait" => {
            let mut parts: Vec<String> = body["traits"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|poly| path_type(&poly["trait"]))
                .collect();
            if let Some(lifetime) = body["lifetime"].as_str() {
                parts.push(lifetime.to_string());
            }
            format!("dyn {}", parts.join(" + "))
        }
        "function_pointer" => {
            let sig = &body["sig"];
            let inputs: Vec<String> = sig["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pair| ty(&pair[1]))
                .collect();
            let output = if sig["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", ty(&sig["output"]))
            };
            format!("fn({}){output}", inputs.join(", "))
        }
        "qualified_path" => {
            let self_type = ty(&body["self_type"]);
            let name = body["name"].as_str().unwrap_or("?");
            if body["trait"].is_null() {
                format!("{self_type}::{name}")
            } else {
                format!("<{self_type} as {}>::{name}", path_type(&body["trait"]))
            }
        }
        _ => t.to_string(),
    }
}
