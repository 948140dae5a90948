#!/usr/bin/env node
import { runInit } from './init.js'
import { InitError } from './init-error.js'
import { parseInitOptions, USAGE } from './init-options.js'
import { initReport } from './init-report.js'

// The `sqlsandbox` bin: `npx @sqlsandbox/core init [options]`. Flags only, no prompts: it runs
// the same in CI, where there is no terminal to answer.
const [command, ...args] = process.argv.slice(2)

const asksForHelp = process.argv.slice(2).some((arg) => arg === '-h' || arg === '--help')

if (command === undefined || asksForHelp) {
  console.log(USAGE)
} else if (command !== 'init') {
  console.error(`sqlsandbox: unknown command "${command}"; the only command is init.\n\n${USAGE}`)
  process.exitCode = 1
} else {
  try {
    console.log(initReport(runInit(parseInitOptions(args, process.cwd()))))
  } catch (error) {
    if (!(error instanceof InitError)) throw error
    console.error(`sqlsandbox init: ${error.message}`)
    process.exitCode = 1
  }
}
