// What `azd up` deploys: one resource group holding the Function App and everything it needs (app.bicep).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('The azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('The Azure region of every resource (one that offers Flex Consumption).')
param location string

@description('The Durable Functions task hub (host.json reads it as %TaskHubName%).')
param taskHubName string = 'DataIntegrationHub'

@description('The most instances Flex Consumption scales the app out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of one instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Every caller needs an Easy Auth principal (DI_REQUIRE_PRINCIPAL); Easy Auth itself sets WEBSITE_AUTH_ENABLED.')
param requirePrincipal bool = false

@description('Key buckets of a two-way task (DI_KEY_BUCKETS): 32 fits most tasks, large two-way tasks want 256.')
@minValue(1)
@maxValue(256)
param keyBuckets int = 32

@secure()
@description('The Fernet key that encrypts the callback URLs of run subscriptions (DI_SUBSCRIPTION_KEY): azd asks for it, or takes `azd env set DI_SUBSCRIPTION_KEY <key>`.')
param subscriptionKey string

@description('More app settings, such as the secret settings connections name, as Key Vault references.')
param extraAppSettings object = {}

var tags = { 'azd-env-name': environmentName }

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'app.bicep' = {
  name: 'app'
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: toLower(uniqueString(subscription().id, environmentName, location))
    taskHubName: taskHubName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    requirePrincipal: requirePrincipal
    keyBuckets: keyBuckets
    subscriptionKey: subscriptionKey
    extraAppSettings: extraAppSettings
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output SERVICE_API_URI string = app.outputs.functionAppUri
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = app.outputs.identityClientId
