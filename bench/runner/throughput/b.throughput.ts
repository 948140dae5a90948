import { throughputFile } from './body.js'

// The second worker's file: with maxWorkers 2 both run at once.
throughputFile()
