// What `azd up` provisions: one resource group holding the Function App, its storage (the
// submissions and reports containers, the task hub), its identity and roles, monitoring, the
// Key Vault with the Store credential and, for the Event Grid trigger, the storage account's
// system topic. The event subscription to the blob trigger's webhook is infra/eventgrid.bicep,
// deployed after the code (the webhook and its key exist only once the app runs).
//
// Resource shapes and API versions follow the Flex Consumption samples of Azure-Samples:
// azure-functions-flex-consumption-samples (IaC/bicep, IaC/armtemplate) and
// functions-quickstart-typescript-azd-eventgrid-blob (infra/, scripts/post-up.sh).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names the resource group and seeds the unique names of the resources.')
param environmentName string

@minLength(1)
@description('Region of every resource. Flex Consumption is offered in some regions only: az functionapp list-flexconsumption-locations.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Hosting plan. flex: Flex Consumption (FC1), scales to zero, Event Grid trigger only. premium: Elastic Premium (EP1-EP3), always one warm instance. dedicated: an App Service plan (P1v3...), fixed instances.')
@allowed(['flex', 'premium', 'dedicated'])
param hostingPlan string = 'flex'

@description('SKU of a premium or dedicated plan (EP1, EP2, EP3; P0v3, P1v3, ...). Empty: EP1 or P1v3. Flex has one SKU, FC1.')
param planSku string = ''

@description('How the blob trigger learns of a new zip. eventGrid: BlobCreated events pushed to the blob extension webhook (seconds; the only source Flex Consumption accepts). polling: the host scans the container and its logs (premium and dedicated only; can lag minutes, and on Consumption up to 10).')
@allowed(['eventGrid', 'polling'])
param blobTriggerSource string = 'eventGrid'

@description('Flex Consumption instance size in MB.')
@allowed([512, 2048, 4096])
param flexInstanceMemoryMB int = 2048

@description('Flex Consumption: the most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 40

@description('Azure AD tenant of the app registered in Partner Center (STORE_TENANT_ID).')
@minLength(1)
param storeTenantId string

@description('Client id of that app registration (STORE_CLIENT_ID).')
@minLength(1)
param storeClientId string

@secure()
@description('Optional: its client secret, written to the Key Vault. Leave empty and set it with az keyvault secret set instead, so it never passes through azd.')
param storeClientSecret string = ''

@description('Container the release engineers drop zips into.')
param submissionsContainerName string = 'submissions'

@description('Container the run reports are written to.')
param reportsContainerName string = 'submission-reports'

@description('APPROVAL_TIMEOUT_HOURS: how long a run with options.commit "approval" waits for approve or reject before it deletes its submission and fails.')
@minValue(1)
@maxValue(720)
param approvalTimeoutHours int = 72

@description('HISTORY_RETENTION_DAYS: the Durable history of runs that ended is purged this many days after they were created (reports stay).')
@minValue(1)
@maxValue(3650)
param historyRetentionDays int = 30

@description('PURGE_SCHEDULE: when the history purge runs, a six-field NCRONTAB expression in UTC.')
param purgeSchedule string = '0 30 3 * * *'

@description('Object id of the user running azd (azd sets it): gets blob access to the submissions and reports containers (for the CLI) and may set the Store secret. Empty: no access for anyone but the app.')
param principalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'resources'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    hostingPlan: hostingPlan
    planSku: planSku
    blobTriggerSource: blobTriggerSource
    flexInstanceMemoryMB: flexInstanceMemoryMB
    flexMaximumInstanceCount: flexMaximumInstanceCount
    storeTenantId: storeTenantId
    storeClientId: storeClientId
    storeClientSecret: storeClientSecret
    submissionsContainerName: submissionsContainerName
    reportsContainerName: reportsContainerName
    approvalTimeoutHours: approvalTimeoutHours
    historyRetentionDays: historyRetentionDays
    purgeSchedule: purgeSchedule
    principalId: principalId
    principalType: principalType
  }
}

// azd keeps these in the environment (azd env get-values); the hooks and the CLI read them.
// Those named like the CLI's environment variables configure `store-submitter submit` directly.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output TASK_HUB_NAME string = resources.outputs.taskHubName
output HOSTING_PLAN string = hostingPlan
output BLOB_TRIGGER_SOURCE string = blobTriggerSource
output STORE_SUBMITTER_FUNCTIONS_URL string = resources.outputs.functionAppUrl
output AZURE_STORAGE_ACCOUNT_NAME string = resources.outputs.storageAccountName
output SUBMISSIONS_STORAGE__blobServiceUri string = resources.outputs.blobEndpoint
output SUBMISSIONS_CONTAINER string = submissionsContainerName
output REPORTS_CONTAINER string = reportsContainerName
output DEAD_LETTER_CONTAINER string = resources.outputs.deadLetterContainerName
output EVENT_GRID_SYSTEM_TOPIC_NAME string = resources.outputs.systemTopicName
output BLOB_TRIGGER_FUNCTION_NAME string = resources.outputs.blobTriggerFunctionName
output AZURE_KEY_VAULT_NAME string = resources.outputs.keyVaultName
output STORE_CLIENT_SECRET_NAME string = resources.outputs.storeClientSecretName
