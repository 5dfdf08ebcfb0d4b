// Everything in the resource group. The app reaches storage, Key Vault and Application
// Insights with one user-assigned identity and holds no key or secret in its settings: storage
// connections are identity-based (`<NAME>__blobServiceUri` ...), the Store client secret is a
// Key Vault reference, telemetry uses Entra authentication.

param location string
param tags object
@minLength(13)
@maxLength(13)
param resourceToken string

@allowed(['flex', 'premium', 'dedicated'])
param hostingPlan string
param planSku string
@allowed(['eventGrid', 'polling'])
param blobTriggerSource string
param flexInstanceMemoryMB int
param flexMaximumInstanceCount int
param storeTenantId string
param storeClientId string
@secure()
param storeClientSecret string
param submissionsContainerName string
param reportsContainerName string
param approvalTimeoutHours int
param historyRetentionDays int
param purgeSchedule string
param principalId string
param principalType string

// The host refuses a polling blob trigger on Flex Consumption ("The Flex Consumption SKU only
// supports EventGrid as the source for BlobTrigger functions", azure-functions-host
// src/WebJobs.Script/Host/ScriptHost.cs): fail here, before anything is created.
var triggerSource = hostingPlan == 'flex' && blobTriggerSource == 'polling'
  ? fail('blobTriggerSource polling is not possible on Flex Consumption: use eventGrid, or hostingPlan premium or dedicated')
  : blobTriggerSource
var isFlex = hostingPlan == 'flex'
var useEventGrid = triggerSource == 'eventGrid'

// The function the Event Grid subscription delivers to (functions/submissionBlob.ts registers it
// under this name; a test checks the two agree).
var blobTriggerFunctionName = 'submissionBlobTrigger'

var names = {
  identity: 'id-${resourceToken}'
  storage: 'st${resourceToken}'
  contentStorage: 'stc${resourceToken}'
  logs: 'log-${resourceToken}'
  insights: 'appi-${resourceToken}'
  vault: 'kv-${resourceToken}'
  plan: 'plan-${resourceToken}'
  app: 'func-${resourceToken}'
  systemTopic: 'evgt-${resourceToken}'
}
var deploymentContainerName = 'app-package-${take(names.app, 32)}-${take(resourceToken, 7)}'
var deadLetterContainerName = 'submissions-deadletter'
var storeClientSecretName = 'store-client-secret'
var contentShareSecretName = 'content-share-connection'

var planSkus = {
  flex: { name: 'FC1', tier: 'FlexConsumption' }
  premium: { name: empty(planSku) ? 'EP1' : planSku, tier: 'ElasticPremium' }
  dedicated: { name: empty(planSku) ? 'P1v3' : planSku, tier: 'PremiumV3' }
}
var planKinds = { flex: 'functionapp', premium: 'elastic', dedicated: 'linux' }

// Built-in role ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: tags
}

// One account for the host (task hub, blob receipts, keys), the zips and the reports. Shared
// key access is off: every client signs in with Entra ID.
resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: names.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    // A zip deleted or overwritten by mistake can be brought back for a week.
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource submissionsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: submissionsContainerName
  properties: { publicAccess: 'None' }
}

resource reportsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: reportsContainerName
  properties: { publicAccess: 'None' }
}

// Events Event Grid could not deliver in 24 hours land here, so no zip is silently dropped.
resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = if (useEventGrid) {
  parent: blobService
  name: deadLetterContainerName
  properties: { publicAccess: 'None' }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = if (isFlex) {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

// Elastic Premium keeps the app's files on an Azure Files share, which only takes a connection
// string with the account key (learn.microsoft.com/azure/azure-functions/storage-considerations,
// "Create an app without Azure Files"). That key gets an account of its own, holding nothing but
// the app's files, and reaches the app as a Key Vault reference.
resource contentStorage 'Microsoft.Storage/storageAccounts@2025-01-01' = if (hostingPlan == 'premium') {
  name: names.contentStorage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource contentFileService 'Microsoft.Storage/storageAccounts/fileServices@2025-01-01' = if (hostingPlan == 'premium') {
  parent: contentStorage
  name: 'default'
}

resource contentShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2025-01-01' = if (hostingPlan == 'premium') {
  parent: contentFileService
  name: names.app
}

resource logs 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: names.logs
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: { name: 'PerGB2018' }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry only with an Entra token (the app's identity has Monitoring Metrics Publisher).
    DisableLocalAuth: true
  }
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: names.vault
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource storeSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(storeClientSecret)) {
  parent: vault
  name: storeClientSecretName
  properties: { value: storeClientSecret, contentType: 'Partner Center Azure AD application client secret' }
}

resource contentShareSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (hostingPlan == 'premium') {
  parent: vault
  name: contentShareSecretName
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${contentStorage!.name};AccountKey=${contentStorage!.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: names.plan
  location: location
  tags: tags
  kind: planKinds[hostingPlan]
  sku: planSkus[hostingPlan]
  properties: union({ reserved: true }, hostingPlan == 'premium' ? { maximumElasticWorkerCount: 20 } : {})
}

// The Durable task hub, one per deployment (host.json "hubName": "%TASK_HUB_NAME%"): two apps, or
// two slots, on one storage account with the same hub would run each other's instances
// (learn.microsoft.com/azure/azure-functions/durable/durable-functions-task-hubs). 'StoreSubmitter'
// and the 13 letters and digits of the token: 27 characters, within the extension's 3 to 45.
var taskHubName = 'StoreSubmitter${resourceToken}'

var storageSettings = {
  TASK_HUB_NAME: taskHubName
  // The host's own storage: task hub, blob receipts, keys (learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  // The zips: the blob trigger needs the queue endpoint too, for its receipts and poison queue.
  SUBMISSIONS_STORAGE__blobServiceUri: storage.properties.primaryEndpoints.blob
  SUBMISSIONS_STORAGE__queueServiceUri: storage.properties.primaryEndpoints.queue
  SUBMISSIONS_STORAGE__credential: 'managedidentity'
  SUBMISSIONS_STORAGE__clientId: identity.properties.clientId
  SUBMISSIONS_CONTAINER: submissionsContainerName
  REPORTS_CONTAINER: reportsContainerName
  // The blob trigger's source (lib/triggerSource.ts): Event Grid, fed by infra/eventgrid.bicep, or polling.
  SUBMISSIONS_TRIGGER_SOURCE: useEventGrid ? 'EventGrid' : 'LogsAndContainerScan'
}

var storeSettings = {
  STORE_TENANT_ID: storeTenantId
  STORE_CLIENT_ID: storeClientId
  STORE_CREDENTIAL: 'secret'
  // Versionless: a new version of the secret is picked up on restart, or within a day.
  STORE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${storeClientSecretName})'
  APPROVAL_TIMEOUT_HOURS: string(approvalTimeoutHours)
  // The scheduled purge of Durable history (functions/purgeHistory.ts); the timer binding names PURGE_SCHEDULE.
  HISTORY_RETENTION_DAYS: string(historyRetentionDays)
  PURGE_SCHEDULE: purgeSchedule
  // The Store's rate limit shared by every instance the plan scales out to (the app creates the container).
  STORE_BUDGET_CONTAINER: 'store-budget'
}

var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
}

// Flex Consumption takes the runtime from functionAppConfig and refuses these settings.
var classicPlanSettings = isFlex
  ? {}
  : {
      FUNCTIONS_EXTENSION_VERSION: '~4'
      FUNCTIONS_WORKER_RUNTIME: 'node'
      WEBSITE_RUN_FROM_PACKAGE: '1'
    }

var premiumSettings = hostingPlan == 'premium'
  ? {
      WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${contentShareSecretName})'
      WEBSITE_CONTENTSHARE: names.app
      // The platform cannot check a share behind a Key Vault reference when it creates the app
      // (azure-functions-host#7094).
      WEBSITE_SKIP_CONTENTSHARE_VALIDATION: '1'
    }
  : {}

var appSettings = union(storageSettings, storeSettings, monitoringSettings, classicPlanSettings, premiumSettings)

var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
      authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
    }
  }
  scaleAndConcurrency: {
    instanceMemoryMB: flexInstanceMemoryMB
    maximumInstanceCount: flexMaximumInstanceCount
  }
  runtime: { name: 'node', version: '22' }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: names.app
  location: location
  tags: union(tags, { 'azd-service-name': 'app' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: union(
    {
      serverFarmId: plan.id
      httpsOnly: true
      keyVaultReferenceIdentity: identity.id
      siteConfig: union(
        {
          alwaysOn: hostingPlan == 'dedicated'
          minTlsVersion: '1.2'
          ftpsState: 'Disabled'
        },
        // Flex takes the runtime from functionAppConfig; the other plans from the Linux stack.
        isFlex ? {} : { linuxFxVersion: 'Node|22' }
      )
    },
    isFlex ? { functionAppConfig: flexConfig } : {}
  )
  dependsOn: [
    // The identity must hold its roles before the host starts with it.
    blobOwner
    queueContributor
    tableContributor
    vaultSecretsUser
  ]
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: app
  name: 'appsettings'
  properties: appSettings
  dependsOn: [storeSecret, contentShareSecret, contentShare]
}

// Slot-sticky: a staging slot keeps its own task hub through a swap, so the production hub's
// instances never move to the slot's code (and back). Flex Consumption has no deployment slots.
resource stickySettings 'Microsoft.Web/sites/config@2025-03-01' = if (!isFlex) {
  parent: app
  name: 'slotConfigNames'
  properties: {
    appSettingNames: ['TASK_HUB_NAME']
  }
}

// The app's identity: data roles on its own account only, no management role anywhere.
// Blob Data Owner is what the host's storage needs; Queue and Table for the task hub and the
// blob trigger's queues (functions-reference, "Grant permission to the identity"; the roles of
// Azure-Samples/functions-quickstart-typescript-azd-eventgrid-blob infra/app/rbac.bicep).
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.blobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.queueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.tableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The person running azd: upload zips and read reports with the CLI, set and rotate the secret.
resource deployerSubmissions 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(submissionsContainer.id, principalId, roles.blobDataContributor)
  scope: submissionsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource deployerReports 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(reportsContainer.id, principalId, roles.blobDataContributor)
  scope: reportsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource deployerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
  }
}

// Event Grid: the storage account's system topic. Its own identity writes undeliverable events
// to the dead-letter container, and nowhere else.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (useEventGrid) {
  name: names.systemTopic
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource topicDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useEventGrid) {
  name: guid(storage.id, names.systemTopic, roles.blobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: systemTopic!.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = app.name
output taskHubName string = taskHubName
output functionAppUrl string = 'https://${app.properties.defaultHostName}'
output storageAccountName string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deadLetterContainerName string = useEventGrid ? deadLetterContainerName : ''
output systemTopicName string = useEventGrid ? names.systemTopic : ''
output blobTriggerFunctionName string = blobTriggerFunctionName
output keyVaultName string = vault.name
output storeClientSecretName string = storeClientSecretName
