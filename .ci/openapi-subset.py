#!/usr/bin/env python3
"""Cut the GitHub Packages part out of GitHub's official REST OpenAPI description.

Input: api.github.com.json from the npm package @octokit/openapi (generated/).
Output: packages.json, a self-contained OpenAPI 3 document holding the package
endpoints (user, org and authenticated-user namespaces), the owner look-ups
(/users/{username}, /orgs/{org}, /user) and /rate_limit, with every component
they reference. Usage: make-subset.py path/to/api.github.com.json > packages.json

A copy of ../shared/github-openapi/make-subset.py, for .ci/run where ../shared is absent
(GitHub-hosted CI): it cuts packages.json from @octokit/openapi 23.0.2 in .ci/node_modules.
"""
import json
import sys

def wanted(path):
    return "/packages" in path or path in ("/users/{username}", "/orgs/{org}", "/user", "/rate_limit")

spec = json.load(open(sys.argv[1]))
paths = {
    p: {m: op for m, op in item.items() if m in ("get", "delete", "post", "parameters")}
    for p, item in spec["paths"].items() if wanted(p)
}
components = spec["components"]
needed = set()

def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                _, _, section, name = value.split("/", 3)
                if (section, name) not in needed:
                    needed.add((section, name))
                    walk(components[section][name])
            else:
                walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)

walk(paths)
out = {k: v for k, v in spec.items() if k not in ("paths", "components") and not k.startswith("x-")}
out["paths"] = paths
out["components"] = {}
for section, name in sorted(needed):
    out["components"].setdefault(section, {})[name] = components[section][name]
if "securitySchemes" in components:
    out["components"]["securitySchemes"] = components["securitySchemes"]
json.dump(out, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
