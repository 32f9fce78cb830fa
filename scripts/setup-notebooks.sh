#!/usr/bin/env bash
# setup-notebooks.sh installs what the notebooks under notebooks/ need on a
# Debian-like machine and registers the GoNB Jupyter kernel:
#
#   - Jupyter from Debian packages (apt-get, as root or through sudo): for
#     headless runs jupyter-core jupyter-client jupyter-nbconvert
#     python3-nbclient python3-nbformat python3-ipykernel, and, unless
#     --headless is given, jupyter-notebook for interactive use (it also
#     brings the MathJax that nbconvert's HTML export loads from
#     /usr/share/javascript, so formulas render there); skipped when they
#     already work (e.g. installed with pip);
#   - GoNB v0.11.4, built from this module (go.mod pins it with a `tool`
#     directive; `go install github.com/janpfeifer/gonb@v0.11.4` alone fails
#     because the module proxy refuses gonb's version list);
#   - goimports (golang.org/x/tools v0.52.0) and gopls v0.23.0 (v0.24 needs
#     Go 1.27), which the kernel runs for every cell;
#   - the "gonb" kernel spec in $(jupyter --data-dir)/kernels/gonb, with plain
#     text errors (-raw_error) and its log in that directory.
#
# Usage: bash scripts/setup-notebooks.sh [--headless]
#
# Every step checks first and does nothing when its tool is already there at
# the pinned version, so running the script twice is safe. Go must be on PATH.
# Set SKIP_APT=1 to never call apt-get. The Go tools go to $(go env GOBIN), or
# $(go env GOPATH)/bin; that directory must be on PATH when Jupyter starts
# (the kernel runs go and goimports). `go run ./scripts/notebooks` adds it
# itself.
set -euo pipefail
# Silences a debugpy warning that every jupyter command prints on Debian 12.
export PYDEVD_DISABLE_FILE_VALIDATION=1

GONB_MODULE=github.com/janpfeifer/gonb
GONB_VERSION=v0.11.4
TOOLS_VERSION=v0.52.0 # golang.org/x/tools, for goimports
GOPLS_VERSION=v0.23.0
APT_PACKAGES=(jupyter-core jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat python3-ipykernel)

say() { printf 'setup-notebooks: %s\n' "$*"; }
die() { printf 'setup-notebooks: error: %s\n' "$*" >&2; exit 1; }

headless=0
for arg in "$@"; do
	case "$arg" in
	--headless) headless=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) printf 'setup-notebooks: unknown argument %s (usage: bash scripts/setup-notebooks.sh [--headless])\n' "$arg" >&2; exit 2 ;;
	esac
done
((headless)) || APT_PACKAGES+=(jupyter-notebook)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

command -v go >/dev/null || die "go is not on PATH (install Go 1.26 first)"
say "Go: $(go version)"

# --- Jupyter ------------------------------------------------------------------
# jupyter_python prints the interpreter that runs `jupyter` (its #! line), which
# need not be the python3 first on PATH (pyenv, conda).
jupyter_python() {
	local line
	line=$(head -n 1 "$(command -v jupyter)")
	line=${line#\#!}
	case "$line" in
	*/env\ *) echo "${line##*/env }" ;;
	*) echo "$line" ;;
	esac
}
jupyter_ok() {
	command -v jupyter >/dev/null && jupyter nbconvert --version >/dev/null 2>&1 &&
		$(jupyter_python) -c 'import nbclient, nbformat' >/dev/null 2>&1 &&
		{ ((headless)) || jupyter notebook --version >/dev/null 2>&1; }
}
if jupyter_ok; then
	say "Jupyter: present (nbconvert $(jupyter nbconvert --version 2>/dev/null)$( ((headless)) || echo ", notebook $(jupyter notebook --version 2>/dev/null)")); nothing to install"
elif [[ "${SKIP_APT:-}" == 1 ]]; then
	die "Jupyter (with nbconvert, nbclient, ipykernel) is missing and SKIP_APT=1"
else
	command -v apt-get >/dev/null || die "Jupyter is missing and there is no apt-get: install ${APT_PACKAGES[*]} (or jupyter, nbconvert, nbclient, ipykernel with pip) yourself"
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || die "Jupyter is missing; run as root or install sudo (apt-get install ${APT_PACKAGES[*]})"
		sudo=(sudo)
	fi
	missing=()
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		# Refresh the package lists only when they have never been fetched
		# (a fresh container); otherwise install from the lists there are.
		if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
			say "running: apt-get update"
			"${sudo[@]}" apt-get update -q
		fi
		say "running: apt-get install ${missing[*]}"
		if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then
			say "install failed; retrying after apt-get update"
			"${sudo[@]}" apt-get update -q
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
		fi
	fi
	jupyter_ok || die "Jupyter still does not work after installing ${APT_PACKAGES[*]}"
	say "Jupyter: installed (nbconvert $(jupyter nbconvert --version 2>/dev/null))"
fi

# --- Go tools -----------------------------------------------------------------
gobin=$(go env GOBIN)
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"

# installed_version BINARY MODULE prints the version of MODULE that BINARY was
# built from, or nothing.
installed_version() {
	[[ -x "$1" ]] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

# GoNB: from inside this module, at the version go.mod pins.
pinned=$(go list -m -f '{{.Version}}' "$GONB_MODULE" 2>/dev/null || true)
[[ "$pinned" == "$GONB_VERSION" ]] || die "go.mod pins $GONB_MODULE at '${pinned:-nothing}', want $GONB_VERSION (go get -tool $GONB_MODULE@$GONB_VERSION)"
if [[ $(installed_version "$gobin/gonb" "$GONB_MODULE") == "$GONB_VERSION" ]]; then
	say "gonb $GONB_VERSION: present in $gobin"
else
	say "running: go install $GONB_MODULE (the $GONB_VERSION pinned in go.mod)"
	go install "$GONB_MODULE"
fi

if [[ $(installed_version "$gobin/goimports" golang.org/x/tools) == "$TOOLS_VERSION" ]]; then
	say "goimports (x/tools $TOOLS_VERSION): present in $gobin"
else
	say "running: go install golang.org/x/tools/cmd/goimports@$TOOLS_VERSION"
	(cd / && go install "golang.org/x/tools/cmd/goimports@$TOOLS_VERSION")
fi

if [[ $(installed_version "$gobin/gopls" golang.org/x/tools/gopls) == "$GOPLS_VERSION" ]]; then
	say "gopls $GOPLS_VERSION: present in $gobin"
else
	say "running: go install golang.org/x/tools/gopls@$GOPLS_VERSION"
	(cd / && go install "golang.org/x/tools/gopls@$GOPLS_VERSION")
fi

# --- Kernel -------------------------------------------------------------------
kernel_dir="$(jupyter --data-dir)/kernels/gonb"
say "registering the gonb kernel in $kernel_dir"
mkdir -p "$kernel_dir"
# gonb --install checks for goimports and gopls on PATH.
PATH="$gobin:$PATH" "$gobin/gonb" --install --raw_error --logtostderr=false --log_file="$kernel_dir/gonb.log"
specs=$(jupyter kernelspec list) # not piped into grep -q: jupyter dies of SIGPIPE
grep -q '^ *gonb ' <<<"$specs" || die "jupyter kernelspec list does not show gonb"

case ":$PATH:" in
*":$gobin:"*) ;;
*) say "NOTE: $gobin is not on PATH; add it before starting Jupyter (the kernel runs go and goimports):"
	say "      export PATH=\"$gobin:\$PATH\"" ;;
esac
say "done. Interactive: jupyter notebook notebooks/fim_pruning.ipynb; headless: go run ./scripts/notebooks [-quick] [-out DIR]"
