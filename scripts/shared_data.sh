# Sourced by the scripts: the repository's top as the working folder and MICRONET_AD_SHARED, the
# shared data folder (default ../shared beside the checkout), checked to be there.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export MICRONET_AD_SHARED="${MICRONET_AD_SHARED:-$(cd .. && pwd)/shared}"
[ -f "$MICRONET_AD_SHARED/SPEC.md" ] || { echo "shared data not found at $MICRONET_AD_SHARED" >&2; exit 1; }
