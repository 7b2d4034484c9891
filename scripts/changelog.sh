#!/usr/bin/env bash
# Regenerate CHANGELOG.md and changelogs/changelog.yaml from changelogs/fragments/ and the modules'
# version_added, for the version in galaxy.yml (the version being prepared is re-released each time;
# fragments are kept). Run it after adding a fragment or a module, and commit the result.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" >/dev/null
version="$(python - "$ROOT/galaxy.yml" <<'PY'
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["version"])
PY
)"
cd "$ROOT" || exit 1
antsibull-changelog lint
antsibull-changelog release --version "$version" --reload-plugins --refresh
rm -f changelogs/.plugin-cache.yaml
echo "CHANGELOG.md regenerated for $version"
