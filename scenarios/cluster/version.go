package cluster

// ModelVersion names the model's behaviour. It goes into every report, script
// and fail file, so a stale one gets a clear message instead of a confusing
// replay. Bump it whenever a seed's trace would change.
const ModelVersion = "0.1.0"
