import type { AppProfile } from './app-profile.js'
import { driverPackage } from './detect-database.js'
import type { InitResult } from './init.js'
import { EXAMPLE_URLS } from './templates/sandbox-module.js'
import { setupFilesLine } from './templates/vitest-config.js'

const DATABASE_NAMES = { postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB' } as const

/** What init tells the user: what it found, what it wrote, and what to run next. */
export function initReport({ profile, written }: InitResult): string {
  const width = Math.max(...written.map((file) => file.path.length))
  const setupFile = written.find((file) => file.path.includes('setup-sandbox'))!.path
  return [
    `sqlsandbox init: ${ormName(profile)} on ${DATABASE_NAMES[profile.database]} (${driverPackage(profile.database)})`,
    '',
    'Wrote:',
    ...written.map((file) => `  ${file.path.padEnd(width)}  ${file.purpose}`),
    ...todo(profile, setupFile),
    '',
    'Next:',
    ...nextCommands(profile).map((command) => `  ${command}`),
    '',
  ].join('\n')
}

function ormName(profile: AppProfile): string {
  return profile.orm === 'none'
    ? `no ORM (the ${driverPackage(profile.database)} pool facade)`
    : profile.orm[0]!.toUpperCase() + profile.orm.slice(1)
}

function todo(profile: AppProfile, setupFile: string): string[] {
  const lines: string[] = []
  if (profile.vitestConfig) {
    lines.push(
      `Add the setup file to ${profile.vitestConfig} (init does not edit it): test: { ${setupFilesLine(setupFile)} }`,
    )
  }
  const client = profile.prismaClient
  if (client && !client.found) {
    lines.push(
      `No Prisma schema with a prisma-client generator was found: fill in the PrismaClient import in ${profile.testDir}/sandboxed-prisma${profile.extension} (or run init with --prisma-client <path to the generated client.ts>).`,
    )
  } else if (client && !client.generated) {
    lines.push(`The Prisma client ${client.specifier} is not generated yet: run prisma generate.`)
  }
  return lines.length > 0 ? ['', 'To do:', ...lines.map((line) => `  ${line}`)] : []
}

function nextCommands(profile: AppProfile): string[] {
  const commands: string[] = []
  if (profile.missingPackages.length > 0) {
    commands.push(`${installCommand(profile)} ${profile.missingPackages.join(' ')}`)
  }
  const run = { npm: 'npx', pnpm: 'pnpm exec', yarn: 'yarn', bun: 'bunx' }[profile.packageManager]
  commands.push(`${profile.urlEnv[0]}=${EXAMPLE_URLS[profile.database]} ${run} vitest run`)
  return commands
}

function installCommand(profile: AppProfile): string {
  return {
    npm: 'npm install --save-dev',
    pnpm: 'pnpm add --save-dev',
    yarn: 'yarn add --dev',
    bun: 'bun add --dev',
  }[profile.packageManager]
}
