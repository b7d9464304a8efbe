package regexp

// Test hooks into the compile cache.

const CacheSize = cacheSize

func CacheLen() int { return compiled.len() }

// ResetCache empties the compile cache.
func ResetCache() { compiled = newLRU(cacheSize) }
