#!/usr/bin/env bash
# Carries out deploy/container/Containerfile on a machine without a container engine, so CI checks the
# recipe itself rather than a copy of it:
#
# - build stage: every RUN line exactly as written, from the repository root (the stage's /src), with
#   /out/ pointing into ROOT; a RUN line that installs packages is checked with dpkg instead (they must
#   be installed here already);
# - every COPY --from=build source exists in ROOT;
# - runtime stage: every shared library the binaries load belongs to a package that debian:bookworm-slim
#   has or that the stage's RUN line installs (with what apt installs along with them); both
#   binaries run (--version); the HEALTHCHECK runs a binary of the image.
#
# Usage: deploy/container/build-steps.sh [ROOT]   (ROOT: a new temporary directory when omitted)
set -euo pipefail
cd "$(dirname "$0")/../.."
containerfile=deploy/container/Containerfile
root=${1:-$(mktemp -d)}
mkdir -p "$root"
root=$(cd "$root" && pwd)

# Libraries of packages every debian:bookworm-slim image has (Priority: required, or needed by apt).
slim_packages="libc6 libgcc-s1 libstdc++6 zlib1g"

fail() {
    echo "build-steps: $*" >&2
    exit 1
}

# The Containerfile's instructions, one per line (continuation lines joined).
instructions=$(sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$containerfile" | grep -Ev '^[[:space:]]*(#|$)')

stage=-1
runtime_packages=""
copies=()
healthcheck=""
while IFS= read -r line; do
    keyword=${line%% *}
    arguments=${line#* }
    case "$keyword" in
    FROM) stage=$((stage + 1)) ;;
    RUN)
        if [[ "$arguments" == *"apt-get install"* ]]; then
            # The package names: the words after "install" that are not options, up to the next "&&".
            packages=$(sed -e 's/.*apt-get install//' -e 's/&&.*//' <<<"$arguments" | tr ' ' '\n' | grep -Ev '^(-.*|)$' | tr '\n' ' ')
            if [ "$stage" -eq 0 ]; then
                for package in $packages; do
                    dpkg -s "$package" >/dev/null 2>&1 || fail "the build stage needs package $package; install it here first"
                done
                echo "build-steps: build stage packages present: $packages"
            else
                runtime_packages+="$packages"
            fi
        elif [ "$stage" -eq 0 ]; then
            command=${arguments//\/out\//$root/}
            echo "build-steps: RUN $command"
            bash -euo pipefail -c "$command"
        else
            fail "the runtime stage may only install packages (it cannot run here): $arguments"
        fi
        ;;
    COPY)
        if [[ "$arguments" == *"--from=build"* ]]; then
            source=$(tr ' ' '\n' <<<"$arguments" | grep -v '^--' | head -1)
            copies+=("$source")
        fi
        ;;
    HEALTHCHECK) healthcheck=$arguments ;;
    esac
done <<<"$instructions"
[ "$stage" -eq 1 ] || fail "expected two stages (build and runtime), found $((stage + 1))"

for source in "${copies[@]}"; do
    [ -e "$root/${source#/out/}" ] || fail "COPY --from=build $source: nothing was built there"
done

# What `apt-get install` brings with the runtime packages: their Depends and Pre-Depends, recursively,
# as this machine's dpkg database records them (the image is the same Debian release). Of alternatives
# ("a | b") every installed one counts; version constraints and architecture qualifiers are dropped.
with_dependencies() {
    local pending=($*) seen=" " package dependency
    while [ ${#pending[@]} -gt 0 ]; do
        package=${pending[0]}
        pending=("${pending[@]:1}")
        [[ "$seen" == *" $package "* ]] && continue
        seen+="$package "
        for dependency in $(dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$package" 2>/dev/null |
            sed -e 's/([^)]*)//g' -e 's/:[a-z0-9]*//g' | tr ',|' '\n\n' | tr -d ' '); do
            dpkg -s "$dependency" >/dev/null 2>&1 && pending+=("$dependency")
        done
    done
    echo "$seen"
}
allowed=" $slim_packages $(with_dependencies $runtime_packages) "
for binary in "$root"/usr/local/bin/*; do
    while read -r library; do
        # Debian merges /lib into /usr/lib; dpkg knows each file under one of the two names.
        package=$(dpkg -S "$library" 2>/dev/null || dpkg -S "/usr$library" 2>/dev/null || dpkg -S "${library#/usr}" 2>/dev/null) ||
            fail "$(basename "$binary") loads $library, which no Debian package provides"
        package=${package%%:*}
        [[ "$allowed" == *" $package "* ]] ||
            fail "$(basename "$binary") loads $library from package $package, which the runtime image does not have (it has:$allowed)"
    done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done
echo "build-steps: the binaries need only libraries of: $allowed"

version=$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/StreamCore/BuildInfo.swift)
for binary in coordd coordctl; do
    printed=$("$root/usr/local/bin/$binary" --version)
    [ "$printed" = "$binary $version" ] || fail "$binary --version printed \"$printed\", not \"$binary $version\""
done
probe=$(sed -n 's/.*CMD \["\([^"]*\)".*/\1/p' <<<"$healthcheck")
[ -x "$root/usr/local/bin/$probe" ] || fail "the HEALTHCHECK runs \"$probe\", which the image does not have"
echo "build-steps: $root holds coordd and coordctl $version; both run; the health check uses $probe"
