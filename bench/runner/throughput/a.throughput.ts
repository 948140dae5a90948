import { throughputFile } from './body.js'

throughputFile()
