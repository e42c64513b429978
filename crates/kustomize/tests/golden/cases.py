#!/usr/bin/env python3
"""Writes the input trees of the golden corpus (one directory per case, input under input/).

Each case is a dict of relative path -> file content; a 'target' key names the directory to build
(default: input/ itself). regen.sh then records what `kubectl kustomize` makes of each.
"""
import os, shutil, textwrap

CASES = {}

def case(name, files, target=None):
    assert name not in CASES, name
    CASES[name] = (files, target)

def d(s):
    return textwrap.dedent(s).lstrip('\n')

DEPLOY = d('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: prod
        envFrom:
        - configMapRef:
            name: web-config
        volumeMounts:
        - name: cfg
          mountPath: /etc/web
      volumes:
      - name: cfg
        configMap:
          name: web-config
      - name: sec
        secret:
          secretName: web-secret
''')
SERVICE = d('''
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
''')
CM = d('''
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  key: value
''')
SECRET = d('''
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
type: Opaque
data:
  password: cGFzc3dvcmQ=
''')
NS = d('''
apiVersion: v1
kind: Namespace
metadata:
  name: apps
''')
SA = d('''
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
''')
ROLE = d('''
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["web-config"]
  verbs: ["get"]
''')
RB = d('''
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: web
- kind: ServiceAccount
  name: default
- kind: User
  name: jane
''')
CRB = d('''
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: admin-binding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
- kind: ServiceAccount
  name: web
  namespace: old
''')
CR = d('''
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: admin
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
''')
PVC = d('''
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
''')
STS = d('''
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: web
  replicas: 2
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      serviceAccountName: web
      containers:
      - name: db
        image: postgres:16
        volumeMounts:
        - name: data
          mountPath: /var/lib/postgresql
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: data
  volumeClaimTemplates:
  - metadata:
      name: pgdata
    spec:
      accessModes: [ReadWriteOnce]
''')
CRONJOB = d('''
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: busybox
            envFrom:
            - secretRef:
                name: web-secret
''')
INGRESS = d('''
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  tls:
  - hosts: [example.com]
    secretName: web-secret
  rules:
  - host: example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
''')
HPA = d('''
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 5
''')
CRD = d('''
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
''')
WIDGET = d('''
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gadget
spec:
  size: 3
  items:
  - a
  - b
  image: nginx:1.0
''')

def k(body):
    return d(body)

# ---------------------------------------------------------------- resources & loading
case('resources-single-file', {'kustomization.yaml': 'resources:\n- deploy.yaml\n', 'deploy.yaml': DEPLOY})
case('resources-multi-doc', {'kustomization.yaml': 'resources:\n- all.yaml\n', 'all.yaml': DEPLOY + '---\n' + SERVICE + '---\n' + CM})
case('resources-legacy-sort', {'kustomization.yaml': 'resources:\n- all.yaml\n', 'all.yaml': '---\n'.join([INGRESS, DEPLOY, SERVICE, CM, NS, SA, CRD, ROLE, RB, CR, CRB, PVC, STS, CRONJOB, HPA])})
case('resources-fifo-sort', {'kustomization.yaml': 'sortOptions:\n  order: fifo\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([INGRESS, DEPLOY, SERVICE, CM, NS])})
case('resources-custom-legacy-sort', {'kustomization.yaml': k('''
sortOptions:
  order: legacy
  legacySortOptions:
    orderFirst: [Service, Deployment]
    orderLast: [ConfigMap]
resources:
- all.yaml
'''), 'all.yaml': '---\n'.join([CM, DEPLOY, SERVICE, NS, INGRESS])})
case('resources-bad-sort-order', {'kustomization.yaml': 'sortOptions:\n  order: random\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-list-kind', {'kustomization.yaml': 'resources:\n- list.yaml\n- svc.yaml\n', 'svc.yaml': SERVICE, 'list.yaml': k('''
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
  data: {x: "1"}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
''')})
case('resources-directory-base', {'kustomization.yaml': 'resources:\n- base\n', 'base/kustomization.yaml': 'resources:\n- deploy.yaml\n- svc.yaml\n', 'base/deploy.yaml': DEPLOY, 'base/svc.yaml': SERVICE})
case('resources-bases-field', {'kustomization.yaml': 'bases:\n- base\n', 'base/kustomization.yaml': 'resources:\n- svc.yaml\n', 'base/svc.yaml': SERVICE})
case('resources-nested-three-levels', {'kustomization.yaml': 'namePrefix: c-\nresources:\n- b\n', 'b/kustomization.yaml': 'namePrefix: b-\nresources:\n- ../a\n', 'a/kustomization.yaml': 'namePrefix: a-\nresources:\n- cm.yaml\n', 'a/cm.yaml': CM})
case('resources-kustomization-yml', {'kustomization.yml': 'resources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-Kustomization-name', {'Kustomization': 'resources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-duplicate-id', {'kustomization.yaml': 'resources:\n- a.yaml\n- b.yaml\n', 'a.yaml': CM, 'b.yaml': CM})
case('resources-same-name-diff-ns', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': CM + '---\n' + CM.replace('  name: web-config\n', '  name: web-config\n  namespace: other\n')})
case('resources-missing-file', {'kustomization.yaml': 'resources:\n- nothere.yaml\n'})
case('resources-empty-docs', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': '---\n---\n' + CM + '---\n\n'})
case('resources-local-config-dropped', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': CM + '---\n' + CM.replace('name: web-config', 'name: local\n  annotations:\n    config.kubernetes.io/local-config: "true"')})
case('resources-missing-name', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n'})
case('resources-missing-kind', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n'})
case('resources-invalid-yaml', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': 'apiVersion: v1\nkind: [\n'})
case('resources-custom-resource', {'kustomization.yaml': 'resources:\n- crd.yaml\n- widget.yaml\n', 'crd.yaml': CRD, 'widget.yaml': WIDGET})
case('resources-scalar-types', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': k('''
apiVersion: v1
kind: ConfigMap
metadata:
  name: types
  annotations:
    quoted-number: "123"
    quoted-bool: "true"
    yes-string: "yes"
data:
  multi: |
    line one
    line two
  empty: ""
  tilde: "~"
  colon: "a: b"
  long: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  special: "@at"
  star: "*star"
''')})
case('resources-unknown-field-in-kustomization', {'kustomization.yaml': 'resources:\n- cm.yaml\nfoo: bar\n', 'cm.yaml': CM})
case('resources-empty-kustomization', {'kustomization.yaml': '# nothing\n'})
case('resources-no-kustomization', {'cm.yaml': CM, 'sub/kustomization.yaml': 'resources:\n- ../cm.yaml\n'}, target='.')
case('resources-multiple-kustomization-files', {'kustomization.yaml': 'resources:\n- cm.yaml\n', 'kustomization.yml': 'resources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-wrong-kind', {'kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Foo\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-explicit-apiversion', {'kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('resources-null-fields', {'kustomization.yaml': 'resources:\n- cm.yaml\nnamePrefix:\nimages:\n', 'cm.yaml': CM})

# ---------------------------------------------------------------- security
case('security-dotdot-file', {'app/kustomization.yaml': 'resources:\n- ../cm.yaml\n', 'cm.yaml': CM}, target='app')
case('security-dotdot-dir-ok', {'overlay/kustomization.yaml': 'resources:\n- ../base\n', 'base/kustomization.yaml': 'resources:\n- cm.yaml\n', 'base/cm.yaml': CM}, target='overlay')
case('security-cycle-self', {'kustomization.yaml': 'resources:\n- .\n'})
case('security-cycle-parent', {'a/kustomization.yaml': 'resources:\n- ..\n', 'kustomization.yaml': 'resources:\n- a\n'})
case('security-cycle-mutual', {'a/kustomization.yaml': 'resources:\n- ../b\n', 'b/kustomization.yaml': 'resources:\n- ../a\n'}, target='a')
case('security-remote-resource', {'kustomization.yaml': 'resources:\n- https://github.com/example/repo//base?ref=main\n'})
case('security-patch-outside', {'app/kustomization.yaml': 'resources:\n- cm.yaml\npatches:\n- path: ../patch.yaml\n', 'app/cm.yaml': CM, 'patch.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  x: y\n'}, target='app')
case('security-generator-file-outside', {'app/kustomization.yaml': 'configMapGenerator:\n- name: c\n  files:\n  - ../secret.txt\n', 'secret.txt': 'hush\n'}, target='app')
case('security-helm-charts', {'kustomization.yaml': 'helmCharts:\n- name: podinfo\n  repo: https://stefanprodan.github.io/podinfo\n  version: 6.0.0\n'})
case('security-exec-plugin', {'kustomization.yaml': 'resources:\n- cm.yaml\ntransformers:\n- plugin.yaml\n', 'cm.yaml': CM, 'plugin.yaml': k('''
apiVersion: example.com/v1
kind: MyPlugin
metadata:
  name: p
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./plugin.sh
''')})

# ---------------------------------------------------------------- namespace
case('namespace-basic', {'kustomization.yaml': 'namespace: prod\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CM, CR, CRD])})
case('namespace-overrides-existing', {'kustomization.yaml': 'namespace: prod\nresources:\n- a.yaml\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  namespace: dev\n')})
case('namespace-namespace-object', {'kustomization.yaml': 'namespace: prod\nresources:\n- ns.yaml\n- cm.yaml\n', 'ns.yaml': NS, 'cm.yaml': CM})
case('namespace-rolebinding-subjects', {'kustomization.yaml': 'namespace: prod\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([SA, ROLE, RB, CRB, CR])})
case('namespace-webhook-service', {'kustomization.yaml': 'namespace: prod\nresources:\n- wh.yaml\n- svc.yaml\n', 'svc.yaml': SERVICE, 'wh.yaml': k('''
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vwh
webhooks:
- name: v.example.com
  clientConfig:
    service:
      name: web
      namespace: default
      path: /validate
''')})
case('namespace-apiservice', {'kustomization.yaml': 'namespace: prod\nresources:\n- a.yaml\n', 'a.yaml': k('''
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.metrics.example.com
spec:
  group: metrics.example.com
  version: v1
  service:
    name: metrics
    namespace: kube-system
''')})
case('namespace-collision', {'kustomization.yaml': 'namespace: prod\nresources:\n- a.yaml\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  namespace: a\n') + '---\n' + CM.replace('  name: web-config\n', '  name: web-config\n  namespace: b\n')})
case('namespace-nested-overlay', {'kustomization.yaml': 'namespace: outer\nresources:\n- base\n', 'base/kustomization.yaml': 'namespace: inner\nresources:\n- cm.yaml\n', 'base/cm.yaml': CM})
case('namespace-transformer-plugin-unset-only', {'kustomization.yaml': 'resources:\n- a.yaml\ntransformers:\n- ns.yaml\n', 'a.yaml': CM + '---\n' + SERVICE.replace('  name: web\n', '  name: web\n  namespace: keep\n'), 'ns.yaml': k('''
apiVersion: builtin
kind: NamespaceTransformer
metadata:
  name: ns
  namespace: filled
unsetOnly: true
''')})
case('namespace-transformer-all-sa-subjects', {'kustomization.yaml': 'resources:\n- a.yaml\ntransformers:\n- ns.yaml\n', 'a.yaml': RB, 'ns.yaml': k('''
apiVersion: builtin
kind: NamespaceTransformer
metadata:
  name: ns
  namespace: team
setRoleBindingSubjects: allServiceAccounts
''')})
case('namespace-newer-cluster-kind', {'kustomization.yaml': 'namespace: prod\nresources:\n- a.yaml\n', 'a.yaml': k('''
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: policy
spec:
  failurePolicy: Fail
''')})

# ---------------------------------------------------------------- prefix / suffix / nameref
case('prefix-basic', {'kustomization.yaml': 'namePrefix: dev-\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CM, SECRET])})
case('suffix-basic', {'kustomization.yaml': 'nameSuffix: -v2\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CM, SECRET])})
case('prefix-suffix-both', {'kustomization.yaml': 'namePrefix: a-\nnameSuffix: -z\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CM, SECRET, INGRESS, HPA])})
case('prefix-skips-crd-namespace', {'kustomization.yaml': 'namePrefix: p-\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([CRD, NS, WIDGET, CR])})
case('nameref-rbac', {'kustomization.yaml': 'namePrefix: p-\nnamespace: team\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([SA, ROLE, RB, CR, CRB, CM])})
case('nameref-statefulset', {'kustomization.yaml': 'namePrefix: p-\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([STS, SERVICE, SA, PVC])})
case('nameref-cronjob', {'kustomization.yaml': 'nameSuffix: -x\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([CRONJOB, SECRET])})
case('nameref-ingress-hpa', {'kustomization.yaml': 'namePrefix: p-\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([INGRESS, HPA, DEPLOY, SERVICE, SECRET])})
case('nameref-unrelated-untouched', {'kustomization.yaml': 'resources:\n- base\n- other.yaml\n', 'other.yaml': DEPLOY.replace('name: web\n  labels', 'name: other\n  labels'), 'base/kustomization.yaml': 'namePrefix: b-\nresources:\n- cm.yaml\n', 'base/cm.yaml': CM})
case('nameref-overlay-prefix-reaches-base', {'kustomization.yaml': 'namePrefix: o-\nresources:\n- base\n', 'base/kustomization.yaml': 'resources:\n- deploy.yaml\n- cm.yaml\n- secret.yaml\n', 'base/deploy.yaml': DEPLOY, 'base/cm.yaml': CM, 'base/secret.yaml': SECRET})
case('nameref-two-bases-same-name', {'kustomization.yaml': 'resources:\n- a\n- b\n', 'a/kustomization.yaml': 'namePrefix: a-\nresources:\n- ../common\n', 'b/kustomization.yaml': 'namePrefix: b-\nresources:\n- ../common\n', 'common/kustomization.yaml': 'resources:\n- deploy.yaml\n- cm.yaml\n', 'common/deploy.yaml': DEPLOY, 'common/cm.yaml': CM})
case('nameref-pv-storageclass', {'kustomization.yaml': 'namePrefix: p-\nresources:\n- a.yaml\n', 'a.yaml': k('''
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv1
spec:
  storageClassName: fast
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: /data
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim
spec:
  storageClassName: fast
  volumeName: pv1
  accessModes: [ReadWriteOnce]
''')})
case('nameref-projected-volume', {'kustomization.yaml': 'nameSuffix: -s\nresources:\n- a.yaml\n', 'a.yaml': CM + '---\n' + SECRET + '---\n' + k('''
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  serviceAccountName: web
  imagePullSecrets:
  - name: web-secret
  containers:
  - name: c
    image: busybox
    env:
    - name: A
      valueFrom:
        configMapKeyRef:
          name: web-config
          key: key
  volumes:
  - name: p
    projected:
      sources:
      - configMap:
          name: web-config
      - secret:
          name: web-secret
''')})

# ---------------------------------------------------------------- labels / annotations
case('commonlabels-basic', {'kustomization.yaml': 'commonLabels:\n  team: blue\n  app.kubernetes.io/part-of: shop\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CM, STS, CRONJOB])})
case('commonlabels-networkpolicy-pdb', {'kustomization.yaml': 'commonLabels:\n  team: blue\nresources:\n- a.yaml\n', 'a.yaml': k('''
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: fe
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: web
''')})
case('labels-without-selectors', {'kustomization.yaml': 'labels:\n- pairs:\n    team: red\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE])})
case('labels-include-selectors', {'kustomization.yaml': 'labels:\n- pairs:\n    team: red\n  includeSelectors: true\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE])})
case('labels-include-templates', {'kustomization.yaml': 'labels:\n- pairs:\n    team: red\n  includeTemplates: true\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, SERVICE, CRONJOB, STS])})
case('labels-custom-fields', {'kustomization.yaml': k('''
labels:
- pairs:
    team: red
  fields:
  - path: spec/selector
    kind: Widget
    create: true
resources:
- all.yaml
'''), 'all.yaml': '---\n'.join([WIDGET, CM])})
case('labels-multiple-entries', {'kustomization.yaml': 'labels:\n- pairs:\n    a: "1"\n- pairs:\n    b: "2"\n  includeSelectors: true\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('labels-and-commonlabels', {'kustomization.yaml': 'commonLabels:\n  c: x\nlabels:\n- pairs:\n    l: yy\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('labels-numeric-value-error', {'kustomization.yaml': 'commonLabels:\n  version: 1\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('annotations-basic', {'kustomization.yaml': 'commonAnnotations:\n  owner: team-a\n  note: "hello: world"\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([DEPLOY, CM, CRONJOB])})
case('annotations-override-existing', {'kustomization.yaml': 'commonAnnotations:\n  a: new\nresources:\n- cm.yaml\n', 'cm.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  annotations:\n    a: old\n    b: keep\n')})
case('labels-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: LabelTransformer\n  metadata:\n    name: l\n  labels:\n    via: plugin\n  fieldSpecs:\n  - path: metadata/labels\n    create: true\n', 'd.yaml': DEPLOY})
case('annotations-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- anno.yaml\n', 'd.yaml': DEPLOY, 'anno.yaml': k('''
apiVersion: builtin
kind: AnnotationsTransformer
metadata:
  name: a
annotations:
  via: plugin
fieldSpecs:
- path: spec/template/metadata/annotations
  create: true
  kind: Deployment
''')})

# ---------------------------------------------------------------- images
case('images-new-tag', {'kustomization.yaml': 'images:\n- name: nginx\n  newTag: "1.27"\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-new-name', {'kustomization.yaml': 'images:\n- name: nginx\n  newName: registry.example.com/nginx\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-digest', {'kustomization.yaml': 'images:\n- name: nginx\n  digest: sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-tag-and-digest', {'kustomization.yaml': 'images:\n- name: nginx\n  newTag: "1.27"\n  digest: sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-tag-suffix', {'kustomization.yaml': 'images:\n- name: nginx\n  tagSuffix: -alpine\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-init-and-cronjob', {'kustomization.yaml': 'images:\n- name: busybox\n  newName: alpine\n  newTag: "3.20"\nresources:\n- a.yaml\n', 'a.yaml': CRONJOB + '---\n' + DEPLOY.replace('      containers:\n', '      initContainers:\n      - name: init\n        image: busybox:1.0\n      containers:\n')})
case('images-registry-port', {'kustomization.yaml': 'images:\n- name: localhost:5000/app\n  newTag: v2\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY.replace('image: nginx:1.25', 'image: localhost:5000/app:v1')})
case('images-custom-resource-legacy-walk', {'kustomization.yaml': 'images:\n- name: nginx\n  newTag: "2.0"\nresources:\n- w.yaml\n', 'w.yaml': k('''
apiVersion: example.com/v1
kind: Runner
metadata:
  name: r
spec:
  pod:
    containers:
    - name: a
      image: nginx:1.0
  image: nginx:1.0
''')})
case('images-custom-config-field', {'kustomization.yaml': 'images:\n- name: nginx\n  newTag: "2.0"\nconfigurations:\n- images.yaml\nresources:\n- w.yaml\n', 'images.yaml': 'images:\n- path: spec/image\n  kind: Widget\n', 'w.yaml': WIDGET})
case('images-no-match', {'kustomization.yaml': 'images:\n- name: redis\n  newTag: "7"\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-multiple', {'kustomization.yaml': 'images:\n- name: nginx\n  newTag: "1.27"\n- name: postgres\n  newName: pg\nresources:\n- a.yaml\n', 'a.yaml': DEPLOY + '---\n' + STS})
case('images-imagetags-legacy', {'kustomization.yaml': 'imageTags:\n- name: nginx\n  newTag: "1.0"\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('images-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- img.yaml\n', 'd.yaml': DEPLOY, 'img.yaml': k('''
apiVersion: builtin
kind: ImageTagTransformer
metadata:
  name: img
imageTag:
  name: nginx
  newTag: plugin
''')})

# ---------------------------------------------------------------- replicas
case('replicas-deployment', {'kustomization.yaml': 'replicas:\n- name: web\n  count: 5\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('replicas-statefulset', {'kustomization.yaml': 'replicas:\n- name: db\n  count: 0\nresources:\n- s.yaml\n', 's.yaml': STS})
case('replicas-after-prefix', {'kustomization.yaml': 'namePrefix: p-\nreplicas:\n- name: web\n  count: 3\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('replicas-no-match', {'kustomization.yaml': 'replicas:\n- name: nothere\n  count: 3\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY})
case('replicas-created-field', {'kustomization.yaml': 'replicas:\n- name: web\n  count: 2\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY.replace('  replicas: 1\n', '')})
case('replicas-transformer-plugin', {'kustomization.yaml': 'resources:\n- w.yaml\ntransformers:\n- r.yaml\n', 'w.yaml': WIDGET, 'r.yaml': k('''
apiVersion: builtin
kind: ReplicaCountTransformer
metadata:
  name: r
replica:
  name: gadget
  count: 7
fieldSpecs:
- path: spec/size
  kind: Widget
''')})

# ---------------------------------------------------------------- generators
case('cmgen-literals', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n  - B=two\n  - C="quoted"\n  - D=a=b\n'})
case('cmgen-files', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  files:\n  - config.json\n  - custom=app.properties\n', 'config.json': '{"a": 1}\n', 'app.properties': 'x=1\ny=2\n'})
case('cmgen-envs', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  envs:\n  - a.env\n  - b.env\n', 'a.env': '# comment\nA=1\n\nB = 2\n', 'b.env': 'C=three\nD=\n'})
case('cmgen-env-legacy', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  env: a.env\n', 'a.env': 'A=1\n'})
case('cmgen-mixed-sources', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - L=1\n  envs:\n  - a.env\n  files:\n  - f.txt\n', 'a.env': 'E=2\n', 'f.txt': 'file\n'})
case('cmgen-disable-hash', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n  options:\n    disableNameSuffixHash: true\n'})
case('cmgen-global-options', {'kustomization.yaml': 'generatorOptions:\n  disableNameSuffixHash: true\n  labels:\n    gen: "yes"\n  annotations:\n    note: generated\nconfigMapGenerator:\n- name: app\n  literals:\n  - A=1\n  options:\n    labels:\n      gen: local\n'})
case('cmgen-immutable', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n  options:\n    immutable: true\n'})
case('cmgen-namespace', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  namespace: other\n  literals:\n  - A=1\n'})
case('cmgen-referenced-by-deployment', {'kustomization.yaml': 'resources:\n- d.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - key=value\nsecretGenerator:\n- name: web-secret\n  literals:\n  - password=s3cr3t\n', 'd.yaml': DEPLOY})
case('cmgen-with-prefix-and-ns', {'kustomization.yaml': 'namePrefix: p-\nnamespace: prod\nresources:\n- d.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - key=value\n', 'd.yaml': DEPLOY})
case('cmgen-merge-behavior', {'kustomization.yaml': 'resources:\n- base\nconfigMapGenerator:\n- name: app\n  behavior: merge\n  literals:\n  - B=overlay\n  - C=new\n', 'base/kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=base\n  - B=base\n'})
case('cmgen-replace-behavior', {'kustomization.yaml': 'resources:\n- base\nconfigMapGenerator:\n- name: app\n  behavior: replace\n  literals:\n  - Z=only\n', 'base/kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=base\n  options:\n    labels:\n      from: base\n'})
case('cmgen-merge-missing', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  behavior: merge\n  literals:\n  - A=1\n'})
case('cmgen-create-existing', {'kustomization.yaml': 'resources:\n- base\nconfigMapGenerator:\n- name: app\n  literals:\n  - A=2\n', 'base/kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n'})
case('cmgen-duplicate-key', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n  - A=2\n'})
case('cmgen-bad-literal', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - novalue\n'})
case('cmgen-no-name', {'kustomization.yaml': 'configMapGenerator:\n- literals:\n  - A=1\n'})
case('cmgen-multiline-and-special', {'kustomization.yaml': 'configMapGenerator:\n- name: app\n  files:\n  - script.sh\n  literals:\n  - html=<b>&amp;</b>\n', 'script.sh': '#!/bin/sh\necho "hi"\n\tindent\n'})
case('cmgen-binary-file', {'kustomization.yaml': 'configMapGenerator:\n- name: bin\n  files:\n  - blob.bin\n', 'blob.bin': b'\x00\x01\x02\xff\xfe binary'})
case('cmgen-generator-plugin', {'kustomization.yaml': 'generators:\n- gen.yaml\n', 'gen.yaml': k('''
apiVersion: builtin
kind: ConfigMapGenerator
metadata:
  name: plugged
literals:
- K=V
''')})
case('secretgen-literals', {'kustomization.yaml': 'secretGenerator:\n- name: creds\n  literals:\n  - user=admin\n  - pass=p@ss\n'})
case('secretgen-type-tls', {'kustomization.yaml': 'secretGenerator:\n- name: tls\n  type: kubernetes.io/tls\n  files:\n  - tls.crt\n  - tls.key\n', 'tls.crt': 'CERTIFICATE\n', 'tls.key': 'KEY\n'})
case('secretgen-long-value', {'kustomization.yaml': 'secretGenerator:\n- name: long\n  literals:\n  - value=' + 'x' * 120 + '\n'})
case('secretgen-envs-disable-hash', {'kustomization.yaml': 'secretGenerator:\n- name: env\n  envs:\n  - s.env\n  options:\n    disableNameSuffixHash: true\n', 's.env': 'TOKEN=abc\n'})
case('secretgen-merge', {'kustomization.yaml': 'resources:\n- base\nsecretGenerator:\n- name: creds\n  behavior: merge\n  literals:\n  - extra=1\n', 'base/kustomization.yaml': 'secretGenerator:\n- name: creds\n  literals:\n  - user=admin\n'})
case('secretgen-immutable-labels', {'kustomization.yaml': 'secretGenerator:\n- name: s\n  literals:\n  - a=b\n  options:\n    immutable: true\n    labels:\n      x: yy\n    annotations:\n      z: w\n'})

# ---------------------------------------------------------------- patches (SMP)
PATCH_DEPLOY = k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        resources:
          limits:
            memory: 256Mi
''')
case('patch-sm-file', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: patch.yaml\n', 'd.yaml': DEPLOY, 'patch.yaml': PATCH_DEPLOY})
case('patch-sm-inline', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n' + textwrap.indent(PATCH_DEPLOY, '    '), 'd.yaml': DEPLOY})
case('patch-sm-legacy-field', {'kustomization.yaml': 'resources:\n- d.yaml\npatchesStrategicMerge:\n- patch.yaml\n', 'd.yaml': DEPLOY, 'patch.yaml': PATCH_DEPLOY})
case('patch-sm-legacy-inline', {'kustomization.yaml': 'resources:\n- d.yaml\npatchesStrategicMerge:\n- |-\n' + textwrap.indent(PATCH_DEPLOY, '  '), 'd.yaml': DEPLOY})
case('patch-sm-add-container', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: envoy:1.0
''')})
case('patch-sm-env-merge', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        env:
        - name: MODE
          value: dev
        - name: NEW
          value: "1"
''')})
case('patch-sm-delete-container', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p.yaml\n', 'd.yaml': DEPLOY.replace('      containers:\n', '      containers:\n      - name: extra\n        image: busybox\n'), 'p.yaml': k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: extra
        $patch: delete
''')})
case('patch-sm-replace-directive', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      volumes:
      - name: only
        emptyDir: {}
      - $patch: replace
''')})
case('patch-sm-delete-resource', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- patch: |-\n    $patch: delete\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: web-config\n', 'a.yaml': CM + '---\n' + SERVICE})
case('patch-sm-null-removes-field', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n      labels:\n        app: null\n    spec:\n      replicas: null\n', 'd.yaml': DEPLOY})
case('patch-sm-target-selector', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: ignored\n    spec:\n      template:\n        spec:\n          nodeSelector:\n            disk: ssd\n', 'a.yaml': DEPLOY + '---\n' + DEPLOY.replace('name: web\n  labels', 'name: api\n  labels')})
case('patch-sm-target-label-selector', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    labelSelector: tier=front\n  patch: |-\n    kind: any\n    metadata:\n      name: any\n      annotations:\n        patched: "true"\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  labels:\n    tier: front\n') + '---\n' + SERVICE})
case('patch-sm-target-annotation-selector', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    annotationSelector: owner in (a,b)\n  patch: |-\n    kind: any\n    metadata:\n      name: any\n      labels:\n        hit: "yes"\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  annotations:\n    owner: a\n') + '---\n' + SERVICE})
case('patch-sm-target-name-regex', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n    name: "cfg-.*"\n  patch: |-\n    kind: ConfigMap\n    metadata:\n      name: x\n    data:\n      patched: "1"\n', 'a.yaml': '---\n'.join(CM.replace('web-config', n) for n in ['cfg-a', 'cfg-b', 'other'])})
case('patch-sm-target-namespace', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    namespace: dev\n  patch: |-\n    kind: ConfigMap\n    metadata:\n      name: x\n    data:\n      env: dev\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  namespace: dev\n') + '---\n' + CM.replace('  name: web-config\n', '  name: web-config\n  namespace: prod\n')})
case('patch-sm-multi-doc-file', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- path: p.yaml\n', 'a.yaml': CM + '---\n' + SERVICE, 'p.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  more: "1"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n'})
case('patch-sm-multi-doc-with-target', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- path: p.yaml\n  target:\n    kind: ConfigMap\n', 'a.yaml': CM, 'p.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n'})
case('patch-sm-no-target-found', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: nothere\n    data:\n      a: b\n', 'a.yaml': CM})
case('patch-sm-after-prefix-base', {'kustomization.yaml': 'resources:\n- base\npatches:\n- path: p.yaml\n', 'base/kustomization.yaml': 'namePrefix: b-\nresources:\n- cm.yaml\n', 'base/cm.yaml': CM, 'p.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  key: patched\n'})
case('patch-sm-allow-name-change', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n    name: web-config\n  options:\n    allowNameChange: true\n  patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: renamed\n', 'a.yaml': CM})
case('patch-sm-name-change-disallowed', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n    name: web-config\n  patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: renamed\n', 'a.yaml': CM})
case('patch-sm-allow-kind-change', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n  options:\n    allowKindChange: true\n  patch: |-\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: web-config\n', 'a.yaml': CM})
case('patch-sm-custom-resource-lists-replace', {'kustomization.yaml': 'resources:\n- w.yaml\npatches:\n- patch: |-\n    apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: gadget\n    spec:\n      items:\n      - c\n      extra:\n        deep: true\n', 'w.yaml': WIDGET})
case('patch-sm-service-ports', {'kustomization.yaml': 'resources:\n- s.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: Service\n    metadata:\n      name: web\n    spec:\n      ports:\n      - port: 80\n        name: http\n      - port: 443\n        targetPort: 8443\n', 's.yaml': SERVICE})
case('patch-sm-tolerations-replace', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          tolerations:\n          - key: b\n            operator: Exists\n', 'd.yaml': DEPLOY.replace('      containers:\n', '      tolerations:\n      - key: a\n        operator: Exists\n      containers:\n')})
case('patch-sm-volume-mounts', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          containers:\n          - name: web\n            volumeMounts:\n            - name: extra\n              mountPath: /extra\n          volumes:\n          - name: extra\n            emptyDir: {}\n', 'd.yaml': DEPLOY})
case('patch-sm-args-list-replace', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          containers:\n          - name: web\n            args: ["--new"]\n', 'd.yaml': DEPLOY.replace('        image: nginx:1.25\n', '        image: nginx:1.25\n        args: ["--old", "--flag"]\n')})
case('patch-sm-finalizers-merge', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: web-config\n      finalizers:\n      - b\n', 'a.yaml': CM.replace('  name: web-config\n', '  name: web-config\n  finalizers:\n  - a\n')})
case('patch-sm-retain-keys-ignored', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      strategy:\n        type: Recreate\n', 'd.yaml': DEPLOY.replace('  replicas: 1\n', '  replicas: 1\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n')})

# ---------------------------------------------------------------- patches (JSON 6902)
case('patch-json-inline-yaml', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n    name: web\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 4\n    - op: add\n      path: /metadata/annotations\n      value:\n        a: b\n', 'd.yaml': DEPLOY})
case('patch-json-inline-json', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: \'[{"op": "add", "path": "/spec/template/spec/containers/0/args", "value": ["-v"]}]\'\n', 'd.yaml': DEPLOY})
case('patch-json-file', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: ops.yaml\n  target:\n    group: apps\n    version: v1\n    kind: Deployment\n    name: web\n', 'd.yaml': DEPLOY, 'ops.yaml': '- op: remove\n  path: /spec/template/spec/volumes/1\n- op: copy\n  from: /metadata/name\n  path: /metadata/labels/copied\n'})
case('patch-json-legacy-field', {'kustomization.yaml': 'resources:\n- d.yaml\npatchesJson6902:\n- target:\n    group: apps\n    version: v1\n    kind: Deployment\n    name: web\n  path: ops.json\n', 'd.yaml': DEPLOY, 'ops.json': '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "httpd:2"}]\n'})
case('patch-json-no-target', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 4\n', 'd.yaml': DEPLOY})
case('patch-json-bad-path', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/nothere/x\n      value: 4\n', 'd.yaml': DEPLOY})
case('patch-json-test-op', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: test\n      path: /spec/replicas\n      value: 1\n    - op: replace\n      path: /spec/replicas\n      value: 9\n', 'd.yaml': DEPLOY})
case('patch-json-rename', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: replace\n      path: /metadata/name\n      value: renamed\n', 'a.yaml': CM})
case('patch-json-append-array', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/-\n      value:\n        name: tail\n        image: busybox\n', 'd.yaml': DEPLOY})
case('patch-json-move', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: move\n      from: /data/key\n      path: /data/moved\n', 'a.yaml': CM})
case('patch-json-escaped-pointer', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: add\n      path: /metadata/annotations\n      value: {}\n    - op: add\n      path: /metadata/annotations/example.com~1role\n      value: x\n', 'a.yaml': CM})
case('patch-json-kind-regex', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- target:\n    kind: "Deployment|StatefulSet"\n  patch: |-\n    - op: add\n      path: /metadata/labels/workload\n      value: "true"\n', 'a.yaml': DEPLOY + '---\n' + STS.replace('  name: db\n', '  name: db\n  labels: {}\n') + '---\n' + CM})
case('patch-both-path-and-patch', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- path: p.yaml\n  patch: |-\n    kind: ConfigMap\n', 'a.yaml': CM, 'p.yaml': CM})
case('patch-unparseable', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- patch: "just a string"\n', 'a.yaml': CM})
case('patch-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: builtin
kind: PatchTransformer
metadata:
  name: p
target:
  kind: Deployment
patch: |-
  - op: replace
    path: /spec/replicas
    value: 6
''')})
case('patch-json6902-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: builtin
kind: PatchJson6902Transformer
metadata:
  name: p
target:
  group: apps
  version: v1
  kind: Deployment
  name: web
jsonOp: '[{"op": "add", "path": "/spec/paused", "value": true}]'
''')})
case('patch-sm-transformer-plugin', {'kustomization.yaml': 'resources:\n- d.yaml\ntransformers:\n- p.yaml\n', 'd.yaml': DEPLOY, 'p.yaml': k('''
apiVersion: builtin
kind: PatchStrategicMergeTransformer
metadata:
  name: p
paths:
- patch.yaml
'''), 'patch.yaml': PATCH_DEPLOY})

# ---------------------------------------------------------------- replacements
case('replacements-basic', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=web].env.[name=MODE].value
'''), 'a.yaml': CM + '---\n' + DEPLOY})
case('replacements-default-fieldpath', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: Service
    name: web
  targets:
  - select:
      kind: ConfigMap
    fieldPaths:
    - data.key
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-delimiter-source', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: Deployment
    name: web
    fieldPath: spec.template.spec.containers.0.image
    options:
      delimiter: ':'
      index: 1
  targets:
  - select:
      kind: ConfigMap
    fieldPaths:
    - data.key
'''), 'a.yaml': CM + '---\n' + DEPLOY})
case('replacements-delimiter-target', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=web].image
    options:
      delimiter: ':'
      index: 1
'''), 'a.yaml': CM + '---\n' + DEPLOY})
case('replacements-delimiter-prefix-index', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Service
    fieldPaths:
    - metadata.name
    options:
      delimiter: '-'
      index: -1
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-create', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Service
    fieldPaths:
    - metadata.annotations.copied
    options:
      create: true
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-missing-target-field', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Service
    fieldPaths:
    - metadata.annotations.nothere
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-reject', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.key
  targets:
  - select:
      kind: ConfigMap
    reject:
    - name: src
    - name: skip
    fieldPaths:
    - data.key
'''), 'a.yaml': '---\n'.join(CM.replace('web-config', n).replace('value', 'v-' + n) for n in ['src', 'skip', 'hit1', 'hit2'])})
case('replacements-reject-by-label', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.key
  targets:
  - select:
      kind: ConfigMap
      labelSelector: role=t
    reject:
    - labelSelector: frozen=yes
    fieldPaths:
    - data.key
'''), 'a.yaml': '---\n'.join([CM.replace('web-config', 'src').replace('value', 'SRC'),
    CM.replace('  name: web-config\n', '  name: t1\n  labels:\n    role: t\n'),
    CM.replace('  name: web-config\n', '  name: t2\n  labels:\n    role: t\n    frozen: "yes"\n')])})
case('replacements-from-file', {'kustomization.yaml': 'resources:\n- a.yaml\nreplacements:\n- path: r.yaml\n', 'a.yaml': CM + '---\n' + SERVICE, 'r.yaml': k('''
source:
  kind: ConfigMap
  name: web-config
  fieldPath: data.key
targets:
- select:
    kind: Service
  fieldPaths:
  - spec.selector.app
''')})
case('replacements-multiple-targets-and-paths', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: Secret
    name: web-secret
    fieldPath: metadata.name
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.volumes.[name=sec].secret.secretName
    - metadata.annotations.secret
    options:
      create: true
  - select:
      kind: Ingress
    fieldPaths:
    - spec.tls.0.secretName
'''), 'a.yaml': '---\n'.join([SECRET, DEPLOY, INGRESS])})
case('replacements-wildcard', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.*.env.[name=MODE].value
'''), 'a.yaml': CM + '---\n' + DEPLOY})
case('replacements-int-to-string-target', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: Deployment
    name: web
    fieldPath: spec.replicas
  targets:
  - select:
      kind: ConfigMap
    fieldPaths:
    - data.key
'''), 'a.yaml': CM + '---\n' + DEPLOY})
case('replacements-map-value', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: Service
    name: web
    fieldPath: spec.selector
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.selector.matchLabels
'''), 'a.yaml': SERVICE.replace('    app: web\n', '    app: web\n    tier: fe\n') + '---\n' + DEPLOY})
case('replacements-source-not-found', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: nothere
  targets:
  - select:
      kind: Service
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-source-field-missing', {'kustomization.yaml': k('''
resources:
- a.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.nothere
  targets:
  - select:
      kind: Service
'''), 'a.yaml': CM + '---\n' + SERVICE})
case('replacements-after-generated-hash', {'kustomization.yaml': k('''
resources:
- d.yaml
configMapGenerator:
- name: gen
  literals:
  - A=1
replacements:
- source:
    kind: ConfigMap
    name: gen
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - metadata.annotations.cm
    options:
      create: true
'''), 'd.yaml': DEPLOY})
case('replacements-transformer-plugin', {'kustomization.yaml': 'resources:\n- a.yaml\ntransformers:\n- r.yaml\n', 'a.yaml': CM + '---\n' + SERVICE, 'r.yaml': k('''
apiVersion: builtin
kind: ReplacementTransformer
metadata:
  name: r
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: data.key
  targets:
  - select:
      kind: Service
    fieldPaths:
    - spec.selector.app
''')})

# ---------------------------------------------------------------- vars
case('vars-basic', {'kustomization.yaml': k('''
resources:
- a.yaml
vars:
- name: SVC
  objref:
    kind: Service
    name: web
    apiVersion: v1
- name: PORT
  objref:
    kind: Service
    name: web
    apiVersion: v1
  fieldref:
    fieldPath: spec.ports[0].port
'''), 'a.yaml': SERVICE + '---\n' + DEPLOY.replace('          value: prod', '          value: http://$(SVC):$(PORT)').replace('        image: nginx:1.25\n', '        image: nginx:1.25\n        args: ["--svc=$(SVC)", "$(PORT)"]\n')})
case('vars-with-prefix', {'kustomization.yaml': k('''
namePrefix: p-
resources:
- a.yaml
vars:
- name: SVC
  objref:
    kind: Service
    name: web
    apiVersion: v1
'''), 'a.yaml': SERVICE + '---\n' + DEPLOY.replace('          value: prod', '          value: $(SVC)')})
case('vars-from-base', {'kustomization.yaml': 'namePrefix: o-\nresources:\n- base\n', 'base/kustomization.yaml': 'resources:\n- a.yaml\nvars:\n- name: CM\n  objref:\n    kind: ConfigMap\n    name: web-config\n    apiVersion: v1\n', 'base/a.yaml': CM + '---\n' + DEPLOY.replace('          value: prod', '          value: cm=$(CM)')})
case('vars-undefined-left', {'kustomization.yaml': 'resources:\n- d.yaml\n', 'd.yaml': DEPLOY.replace('          value: prod', '          value: $(NOPE) and $$ and $x')})
case('vars-missing-object', {'kustomization.yaml': 'resources:\n- d.yaml\nvars:\n- name: X\n  objref:\n    kind: Service\n    name: nothere\n    apiVersion: v1\n', 'd.yaml': DEPLOY})
case('vars-duplicate', {'kustomization.yaml': 'resources:\n- a.yaml\nvars:\n- name: X\n  objref:\n    kind: Service\n    name: web\n    apiVersion: v1\n- name: X\n  objref:\n    kind: Service\n    name: web\n    apiVersion: v1\n', 'a.yaml': SERVICE})
case('vars-custom-varreference', {'kustomization.yaml': 'resources:\n- a.yaml\nconfigurations:\n- c.yaml\nvars:\n- name: SVC\n  objref:\n    kind: Service\n    name: web\n    apiVersion: v1\n', 'c.yaml': 'varReference:\n- path: spec/note\n  kind: Widget\n', 'a.yaml': SERVICE + '---\n' + WIDGET.replace('  size: 3\n', '  size: 3\n  note: svc is $(SVC)\n')})

# ---------------------------------------------------------------- components
COMP = 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n'
case('components-basic', {'kustomization.yaml': 'resources:\n- d.yaml\ncomponents:\n- comp\n', 'd.yaml': DEPLOY, 'comp/kustomization.yaml': COMP + 'resources:\n- cm.yaml\ncommonLabels:\n  comp: "on"\n', 'comp/cm.yaml': CM})
case('components-patch-parent', {'kustomization.yaml': 'resources:\n- d.yaml\ncomponents:\n- comp\n', 'd.yaml': DEPLOY, 'comp/kustomization.yaml': COMP + 'patches:\n- path: p.yaml\n', 'comp/p.yaml': PATCH_DEPLOY})
case('components-order', {'kustomization.yaml': 'resources:\n- d.yaml\ncomponents:\n- one\n- two\n', 'd.yaml': DEPLOY,
    'one/kustomization.yaml': COMP + 'patches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n',
    'two/kustomization.yaml': COMP + 'patches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: test\n      path: /spec/replicas\n      value: 2\n    - op: replace\n      path: /spec/replicas\n      value: 3\n'})
case('components-generator-merge', {'kustomization.yaml': 'configMapGenerator:\n- name: settings\n  literals:\n  - A=1\ncomponents:\n- comp\n', 'comp/kustomization.yaml': COMP + 'configMapGenerator:\n- name: settings\n  behavior: merge\n  literals:\n  - B=2\n'})
case('components-wrong-kind', {'kustomization.yaml': 'components:\n- comp\n', 'comp/kustomization.yaml': 'resources:\n- cm.yaml\n', 'comp/cm.yaml': CM})
case('components-as-resource', {'kustomization.yaml': 'resources:\n- comp\n', 'comp/kustomization.yaml': COMP + 'resources:\n- cm.yaml\n', 'comp/cm.yaml': CM})
case('components-nested', {'kustomization.yaml': 'resources:\n- d.yaml\ncomponents:\n- outer\n', 'd.yaml': DEPLOY, 'outer/kustomization.yaml': COMP + 'components:\n- ../inner\ncommonAnnotations:\n  outer: "1"\n', 'inner/kustomization.yaml': COMP + 'images:\n- name: nginx\n  newTag: inner\n'})
case('components-in-base-and-overlay', {'overlay/kustomization.yaml': 'resources:\n- ../base\ncomponents:\n- ../comp\nnamePrefix: o-\n', 'base/kustomization.yaml': 'resources:\n- d.yaml\n', 'base/d.yaml': DEPLOY, 'comp/kustomization.yaml': COMP + 'replicas:\n- name: web\n  count: 4\n'}, target='overlay')

# ---------------------------------------------------------------- configurations / crds / misc
case('configurations-nameref-crd', {'kustomization.yaml': 'namePrefix: p-\nconfigurations:\n- nr.yaml\nresources:\n- a.yaml\n', 'nr.yaml': 'nameReference:\n- kind: ConfigMap\n  version: v1\n  fieldSpecs:\n  - path: spec/configRef\n    kind: Widget\n', 'a.yaml': CM + '---\n' + WIDGET.replace('  size: 3\n', '  size: 3\n  configRef: web-config\n')})
case('configurations-commonlabels-crd', {'kustomization.yaml': 'commonLabels:\n  team: x\nconfigurations:\n- c.yaml\nresources:\n- w.yaml\n', 'c.yaml': 'commonLabels:\n- path: spec/selector\n  kind: Widget\n  create: true\n', 'w.yaml': WIDGET})
case('configurations-namespace-field', {'kustomization.yaml': 'namespace: ns1\nconfigurations:\n- c.yaml\nresources:\n- w.yaml\n', 'c.yaml': 'namespace:\n- path: spec/targetNamespace\n  kind: Widget\n  create: true\n', 'w.yaml': WIDGET})
case('configurations-prefix-extra-field', {'kustomization.yaml': 'namePrefix: p-\nconfigurations:\n- c.yaml\nresources:\n- w.yaml\n', 'c.yaml': 'namePrefix:\n- path: spec/alias\n  kind: Widget\n', 'w.yaml': WIDGET.replace('  size: 3\n', '  size: 3\n  alias: gadget\n')})
case('buildmetadata-ignored-fields', {'kustomization.yaml': 'metadata:\n  name: ignored\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('openapi-field-accepted', {'kustomization.yaml': 'openapi:\n  version: v1.21.2\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('sort-transformer-plugin-fifo', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': '---\n'.join([SERVICE, CM, NS])})

# ---------------------------------------------------------------- combinations
case('combo-overlay-everything', {
    'overlays/prod/kustomization.yaml': k('''
namespace: prod
namePrefix: prod-
nameSuffix: -v1
commonLabels:
  env: prod
commonAnnotations:
  owner: sre
resources:
- ../../base
- hpa.yaml
images:
- name: nginx
  newName: registry.example.com/nginx
  newTag: "1.27"
replicas:
- name: web
  count: 3
configMapGenerator:
- name: web-config
  behavior: merge
  literals:
  - LOG_LEVEL=warn
secretGenerator:
- name: web-secret
  literals:
  - password=prod
patches:
- path: resources.yaml
- target:
    kind: Ingress
  patch: |-
    - op: replace
      path: /spec/rules/0/host
      value: prod.example.com
'''),
    'overlays/prod/hpa.yaml': HPA,
    'overlays/prod/resources.yaml': PATCH_DEPLOY,
    'base/kustomization.yaml': 'resources:\n- deploy.yaml\n- svc.yaml\n- ingress.yaml\n- sa.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - LOG_LEVEL=info\n  - key=value\n',
    'base/deploy.yaml': DEPLOY.replace('      volumes:', '      serviceAccountName: web\n      volumes:'),
    'base/svc.yaml': SERVICE, 'base/ingress.yaml': INGRESS, 'base/sa.yaml': SA,
}, target='overlays/prod')

FLUX_BASE = {
    'apps/base/podinfo/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n- namespace.yaml\n- deployment.yaml\n- service.yaml\n- hpa.yaml\nconfigMapGenerator:\n- name: podinfo-config\n  literals:\n  - PODINFO_UI_COLOR=#34577c\n',
    'apps/base/podinfo/namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n',
    'apps/base/podinfo/deployment.yaml': k('''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    app.kubernetes.io/name: podinfo
spec:
  minReadySeconds: 3
  revisionHistoryLimit: 5
  progressDeadlineSeconds: 60
  strategy:
    rollingUpdate:
      maxUnavailable: 0
    type: RollingUpdate
  selector:
    matchLabels:
      app.kubernetes.io/name: podinfo
  template:
    metadata:
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9797"
      labels:
        app.kubernetes.io/name: podinfo
    spec:
      containers:
      - name: podinfod
        image: ghcr.io/stefanprodan/podinfo:6.5.0
        imagePullPolicy: IfNotPresent
        ports:
        - name: http
          containerPort: 9898
          protocol: TCP
        - name: http-metrics
          containerPort: 9797
          protocol: TCP
        command:
        - ./podinfo
        - --port=9898
        - --level=info
        envFrom:
        - configMapRef:
            name: podinfo-config
        livenessProbe:
          httpGet:
            path: /healthz
            port: 9898
        readinessProbe:
          httpGet:
            path: /readyz
            port: 9898
        resources:
          limits:
            cpu: 2000m
            memory: 512Mi
          requests:
            cpu: 100m
            memory: 64Mi
'''),
    'apps/base/podinfo/service.yaml': k('''
apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: podinfo
  ports:
  - name: http
    port: 9898
    protocol: TCP
    targetPort: http
'''),
    'apps/base/podinfo/hpa.yaml': k('''
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: podinfo
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 90
'''),
    'apps/components/monitoring/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- servicemonitor.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/template/metadata/annotations/monitoring\n      value: enabled\n',
    'apps/components/monitoring/servicemonitor.yaml': k('''
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: podinfo
spec:
  endpoints:
  - port: http-metrics
    interval: 15s
  selector:
    matchLabels:
      app.kubernetes.io/name: podinfo
'''),
    'apps/staging/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base/podinfo\nnamePrefix: staging-\ncommonLabels:\n  env: staging\nimages:\n- name: ghcr.io/stefanprodan/podinfo\n  newTag: 6.6.0\npatches:\n- path: podinfo-values.yaml\n',
    'apps/staging/podinfo-values.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  template:\n    spec:\n      containers:\n      - name: podinfod\n        env:\n        - name: PODINFO_UI_MESSAGE\n          value: staging\n',
    'apps/production/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base/podinfo\ncomponents:\n- ../components/monitoring\nlabels:\n- pairs:\n    env: production\n  includeSelectors: false\n  includeTemplates: true\nimages:\n- name: ghcr.io/stefanprodan/podinfo\n  digest: sha256:2c2f2f9b8d3b6a9f1f1f0d4f6c3a6e2b1d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a\nreplicas:\n- name: podinfo\n  count: 3\nconfigMapGenerator:\n- name: podinfo-config\n  behavior: merge\n  literals:\n  - PODINFO_UI_COLOR=#ff0000\npatches:\n- target:\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n  patch: |-\n    - op: replace\n      path: /spec/maxReplicas\n      value: 10\n',
    'clusters/production/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../apps/production\n',
}
case('flux-repo-staging', FLUX_BASE, target='apps/staging')
case('flux-repo-production', FLUX_BASE, target='apps/production')
case('flux-repo-cluster', FLUX_BASE, target='clusters/production')

case('combo-generator-hash-nameref-two-levels', {'kustomization.yaml': 'namePrefix: o-\nresources:\n- base\nconfigMapGenerator:\n- name: extra\n  literals:\n  - X=1\n', 'base/kustomization.yaml': 'resources:\n- d.yaml\nconfigMapGenerator:\n- name: web-config\n  files:\n  - app.conf\nsecretGenerator:\n- name: web-secret\n  literals:\n  - k=v\n', 'base/d.yaml': DEPLOY, 'base/app.conf': 'listen 80;\n'})
case('combo-namespace-prefix-rbac-crb', {'kustomization.yaml': 'namespace: team-a\nnamePrefix: a-\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([SA, CR, CRB, ROLE, RB, NS])})
case('combo-labels-then-patch-selector', {'kustomization.yaml': 'commonLabels:\n  tier: web\nresources:\n- a.yaml\npatches:\n- target:\n    labelSelector: tier=web\n    kind: Service\n  patch: |-\n    - op: add\n      path: /spec/type\n      value: NodePort\n', 'a.yaml': SERVICE + '---\n' + CM})
case('combo-replicas-and-patch-order', {'kustomization.yaml': 'replicas:\n- name: web\n  count: 7\nresources:\n- d.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n', 'd.yaml': DEPLOY})
case('combo-many-bases', {'kustomization.yaml': 'resources:\n' + ''.join('- app%d\n' % i for i in range(5)), **{('app%d/kustomization.yaml' % i): 'namePrefix: a%d-\nresources:\n- ../shared\n' % i for i in range(5)}, 'shared/kustomization.yaml': 'resources:\n- cm.yaml\n- svc.yaml\n', 'shared/cm.yaml': CM, 'shared/svc.yaml': SERVICE})
case('combo-base-namespace-overlay-patch', {'kustomization.yaml': 'resources:\n- base\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: web-config\n      namespace: inner\n    data:\n      key: patched\n', 'base/kustomization.yaml': 'namespace: inner\nresources:\n- cm.yaml\n', 'base/cm.yaml': CM})

# ---------------------------------------------------------------- more edge cases
case('buildmetadata-origin', {'kustomization.yaml': 'buildMetadata: [originAnnotations]\nresources:\n- cm.yaml\n- base\nconfigMapGenerator:\n- name: gen\n  literals:\n  - A=1\n', 'cm.yaml': CM, 'base/kustomization.yaml': 'resources:\n- svc.yaml\n', 'base/svc.yaml': SERVICE})
case('buildmetadata-managedby', {'kustomization.yaml': 'buildMetadata: [managedByLabel]\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('buildmetadata-transformers', {'kustomization.yaml': 'buildMetadata: [transformerAnnotations]\nnamePrefix: p-\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('validators-field', {'kustomization.yaml': 'resources:\n- cm.yaml\nvalidators:\n- v.yaml\n', 'cm.yaml': CM, 'v.yaml': 'apiVersion: example.com/v1\nkind: Validator\nmetadata:\n  name: v\n'})
case('generators-exec-plugin', {'kustomization.yaml': 'generators:\n- g.yaml\n', 'g.yaml': 'apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: g\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: example/gen:1\n'})
case('patch-sm-merge-directive', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        metadata:\n          labels:\n            $patch: replace\n            only: this\n', 'd.yaml': DEPLOY})
case('patch-sm-primitive-list-merge', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: Pod\n    metadata:\n      name: p\n      finalizers:\n      - two\n    spec:\n      containers:\n      - name: c\n        command: [new]\n', 'a.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  finalizers:\n  - one\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: [old]\n'})
case('patch-sm-ports-by-containerport', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          containers:\n          - name: web\n            ports:\n            - containerPort: 80\n              name: http\n            - containerPort: 9090\n              name: metrics\n', 'd.yaml': DEPLOY})
case('patch-sm-empty-map-and-list', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n      annotations: {}\n    spec:\n      template:\n        spec:\n          nodeSelector: {}\n          tolerations: []\n', 'd.yaml': DEPLOY})
case('patch-sm-two-patches-same-target', {'kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p1.yaml\n- path: p2.yaml\n', 'd.yaml': DEPLOY, 'p1.yaml': PATCH_DEPLOY, 'p2.yaml': PATCH_DEPLOY.replace('replicas: 3', 'replicas: 5').replace('memory: 256Mi', 'cpu: 500m')})
case('patch-json-regex-custom-resource', {'kustomization.yaml': 'resources:\n- w.yaml\npatches:\n- target:\n    group: example.com\n    version: v1\n    kind: Wid.*\n    name: gad.*\n  patch: |-\n    - op: add\n      path: /spec/items/1\n      value: inserted\n', 'w.yaml': WIDGET})
case('patch-sm-in-base-then-overlay-prefix', {'kustomization.yaml': 'namePrefix: o-\nresources:\n- base\npatches:\n- path: p.yaml\n', 'base/kustomization.yaml': 'resources:\n- d.yaml\npatches:\n- path: p.yaml\n', 'base/d.yaml': DEPLOY, 'base/p.yaml': PATCH_DEPLOY, 'p.yaml': PATCH_DEPLOY.replace('replicas: 3', 'replicas: 9')})
case('nameref-serviceaccount-namespace-in-crb', {'kustomization.yaml': 'namespace: newns\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([SA, CRB.replace('  namespace: old\n', '  namespace: default\n'), CR])})
case('nameref-configmap-in-role-resourcenames', {'kustomization.yaml': 'nameSuffix: -x\nresources:\n- all.yaml\n', 'all.yaml': '---\n'.join([CM, ROLE, CR.replace('- apiGroups: ["*"]\n  resources: ["*"]\n', '- apiGroups: [""]\n  resources: ["configmaps"]\n  resourceNames: ["web-config", "other"]\n')])})
case('nameref-generated-secret-in-ingress-annotation', {'kustomization.yaml': 'resources:\n- i.yaml\nsecretGenerator:\n- name: basic-auth\n  literals:\n  - auth=x\n', 'i.yaml': INGRESS.replace('  name: web\n', '  name: web\n  annotations:\n    nginx.ingress.kubernetes.io/auth-secret: basic-auth\n', 1)})
case('nameref-priorityclass-ingressclass', {'kustomization.yaml': 'namePrefix: p-\nresources:\n- a.yaml\n', 'a.yaml': k("""
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
spec:
  ingressClassName: nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  priorityClassName: high
  containers:
  - name: c
    image: busybox
""")})
case('cmgen-merge-with-options', {'kustomization.yaml': 'resources:\n- base\nconfigMapGenerator:\n- name: app\n  behavior: merge\n  literals:\n  - B=2\n  options:\n    labels:\n      overlay: "true"\n    disableNameSuffixHash: true\n', 'base/kustomization.yaml': 'configMapGenerator:\n- name: app\n  literals:\n  - A=1\n  options:\n    annotations:\n      base: "true"\n'})
case('cmgen-global-immutable', {'kustomization.yaml': 'generatorOptions:\n  immutable: true\nconfigMapGenerator:\n- name: a\n  literals:\n  - A=1\nsecretGenerator:\n- name: s\n  literals:\n  - B=2\n'})
case('cmgen-file-key-with-dir', {'kustomization.yaml': 'configMapGenerator:\n- name: a\n  files:\n  - conf/app.ini\n', 'conf/app.ini': '[main]\nx=1\n'})
case('cmgen-file-bad-equals', {'kustomization.yaml': 'configMapGenerator:\n- name: a\n  files:\n  - a=b=c\n'})
case('cmgen-env-bom-and-spaces', {'kustomization.yaml': 'configMapGenerator:\n- name: a\n  envs:\n  - e.env\n', 'e.env': '\ufeffFIRST=1\n   INDENTED=2\n#c=3\nURL=http://x?a=b\n'})
case('labels-cronjob-templates', {'kustomization.yaml': 'labels:\n- pairs:\n    t: v\n  includeTemplates: true\nresources:\n- c.yaml\n- j.yaml\n', 'c.yaml': CRONJOB, 'j.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n'})
case('commonlabels-overrides-selector', {'kustomization.yaml': 'commonLabels:\n  app: changed\nresources:\n- a.yaml\n', 'a.yaml': DEPLOY + '---\n' + SERVICE})
case('images-pod-and-name-regex-chars', {'kustomization.yaml': 'images:\n- name: docker.io/library/nginx\n  newName: mirror.local/nginx\n- name: busybox\n  digest: sha256:abc\nresources:\n- p.yaml\n', 'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: i\n    image: busybox:latest\n  containers:\n  - name: c\n    image: docker.io/library/nginx:1.0\n  - name: d\n    image: docker.io/library/nginx\n'})
case('replicas-two-entries', {'kustomization.yaml': 'replicas:\n- name: web\n  count: 4\n- name: db\n  count: 1\nresources:\n- a.yaml\n', 'a.yaml': DEPLOY + '---\n' + STS})
case('namespace-and-generator-ns', {'kustomization.yaml': 'namespace: team\nconfigMapGenerator:\n- name: a\n  namespace: other\n  literals:\n  - A=1\n'})
case('resources-crd-and-cr-sort', {'kustomization.yaml': 'resources:\n- w.yaml\n- crd.yaml\n- ns.yaml\n', 'w.yaml': WIDGET, 'crd.yaml': CRD, 'ns.yaml': NS})
case('sort-transformer-via-transformers', {'kustomization.yaml': 'resources:\n- a.yaml\ntransformers:\n- s.yaml\n', 'a.yaml': '---\n'.join([SERVICE, CM, NS]), 's.yaml': 'apiVersion: builtin\nkind: SortOrderTransformer\nmetadata:\n  name: s\nsortOptions:\n  order: fifo\n'})
case('transformers-directory', {'kustomization.yaml': 'resources:\n- cm.yaml\ntransformers:\n- tdir\n', 'cm.yaml': CM, 'tdir/kustomization.yaml': 'resources:\n- l.yaml\n', 'tdir/l.yaml': 'apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: a\nannotations:\n  from: dir\nfieldSpecs:\n- path: metadata/annotations\n  create: true\n'})
case('replacements-source-in-base-target-overlay', {'kustomization.yaml': k("""
resources:
- base
- svc.yaml
replacements:
- source:
    kind: ConfigMap
    name: web-config
    fieldPath: metadata.name
  targets:
  - select:
      kind: Service
    fieldPaths:
    - metadata.annotations.config
    options:
      create: true
"""), 'base/kustomization.yaml': 'namePrefix: b-\nresources:\n- cm.yaml\n', 'base/cm.yaml': CM, 'svc.yaml': SERVICE})

# ---------------------------------------------------------------- crds field, openapi, misc
case('crds-field-not-a-k8s-type', {'kustomization.yaml': 'namePrefix: p-\ncrds:\n- mycrd.json\nresources:\n- a.yaml\n', 'mycrd.json': '{"github.com/example/pkg/apis/v1.Thing": {"x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "Thing", "version": "v1"}], "properties": {"spec": {"properties": {"secretRef": {"type": "string", "x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "Secret"}}}}}}\n', 'a.yaml': SECRET + '---\napiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  secretRef: web-secret\n'})
case('namespace-crd-conversion-webhook', {'kustomization.yaml': 'namespace: sys\nresources:\n- crd.yaml\n', 'crd.yaml': CRD.replace('  scope: Namespaced\n', '  scope: Namespaced\n  conversion:\n    strategy: Webhook\n    webhook:\n      conversionReviewVersions: [v1]\n      clientConfig:\n        service:\n          name: conv\n          namespace: default\n          path: /convert\n')})
case('patch-json-yaml-file-ops', {'kustomization.yaml': 'resources:\n- s.yaml\npatches:\n- path: ops.yaml\n  target:\n    kind: Service\n', 's.yaml': SERVICE, 'ops.yaml': '- op: add\n  path: /spec/ports/-\n  value:\n    name: https\n    port: 443\n- op: replace\n  path: /spec/ports/0/targetPort\n  value: 8080\n'})
case('patch-sm-multi-doc-delete', {'kustomization.yaml': 'resources:\n- a.yaml\npatches:\n- path: p.yaml\n', 'a.yaml': CM + '---\n' + SERVICE + '---\n' + SECRET, 'p.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\nstringData:\n  extra: x\n---\n$patch: delete\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n'})
case('images-newname-digest-only', {'kustomization.yaml': 'images:\n- name: nginx\n  newName: ghcr.io/nginx/nginx\n  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111\nresources:\n- d.yaml\n', 'd.yaml': DEPLOY.replace('nginx:1.25', 'nginx@sha256:2222222222222222222222222222222222222222222222222222222222222222')})
case('openapi-custom-schema-path', {'kustomization.yaml': 'openapi:\n  path: schema.json\nresources:\n- w.yaml\npatches:\n- patch: |-\n    apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: gadget\n    spec:\n      size: 4\n', 'w.yaml': WIDGET, 'schema.json': '{"definitions": {}}\n'})
case('combo-component-adds-namespace-resource', {'overlay/kustomization.yaml': 'namespace: team\nresources:\n- ../base\ncomponents:\n- ../ns\n', 'base/kustomization.yaml': 'resources:\n- cm.yaml\n', 'base/cm.yaml': CM, 'ns/kustomization.yaml': COMP + 'resources:\n- ns.yaml\n', 'ns/ns.yaml': NS}, target='overlay')
case('combo-flux-kustomization-crs', {'kustomization.yaml': 'namespace: flux-system\nresources:\n- sync.yaml\n', 'sync.yaml': k("""
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 10m0s
  path: ./apps/production
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      cluster_name: prod
      replicas: "3"
""")})
case('resources-yaml-anchors', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\n  labels: &l\n    app: x\n  annotations: *l\ndata:\n  a: &v hello\n  b: *v\n'})
case('resources-numbers-and-dates', {'kustomization.yaml': 'resources:\n- a.yaml\n', 'a.yaml': 'apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: n\nspec:\n  int: 42\n  float: 1.5\n  exp: 1e3\n  octal: 0o17\n  hex: 0x1F\n  date: 2024-01-02\n  bool: true\n  yesword: yes\n  nothing: ~\n  neg: -7\n  big: 12345678901234\n'})

CRD_OPENAPI = """{
  "github.com/example/apis/v1.Thing": {"Schema": {
    "properties": {
      "apiVersion": {"type": "string"},
      "kind": {"type": "string"},
      "metadata": {"$ref": "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"},
      "spec": {"$ref": "github.com/example/apis/v1.ThingSpec"}
    }
  }},
  "github.com/example/apis/v1.ThingSpec": {"Schema": {
    "properties": {
      "secretRef": {"x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "Secret"},
      "selector": {"x-kubernetes-label-selector": ""},
      "notes": {"x-kubernetes-annotation": ""},
      "alias": {"x-kubernetes-identity": ""}
    }
  }}
}
"""
case('crds-field-without-schema-key', {'kustomization.yaml': 'namePrefix: p-\ncrds:\n- thing.json\nresources:\n- a.yaml\n', 'thing.json': CRD_OPENAPI.replace('{"Schema": {', '{"x": {'), 'a.yaml': SECRET + '---\napiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  secretRef:\n    name: web-secret\n'})
case('crds-field-openapi-definitions', {'kustomization.yaml': 'namePrefix: p-\ncommonLabels:\n  team: t\ncommonAnnotations:\n  note: hello\ncrds:\n- thing.json\nresources:\n- a.yaml\n', 'thing.json': CRD_OPENAPI, 'a.yaml': SECRET + '---\napiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  secretRef:\n    name: web-secret\n  selector:\n    app: x\n  notes:\n    a: b\n  alias: t\n'})

case('buildmetadata-transformers-overlay', {'kustomization.yaml': 'buildMetadata: [transformerAnnotations, originAnnotations]\nnamespace: ns\ncommonAnnotations:\n  a: b\nimages:\n- name: nginx\n  newTag: "2"\nresources:\n- base\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n', 'base/kustomization.yaml': 'nameSuffix: -b\nlabels:\n- pairs:\n    x: yv\nresources:\n- d.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - k=v\n', 'base/d.yaml': DEPLOY})

# ---------------------------------------------------------------- YAML 1.1 in kustomization.yaml
case('yaml11-label-value-y-is-bool', {'kustomization.yaml': 'commonLabels:\n  enabled: y\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('yaml11-quoted-words-stay-strings', {'kustomization.yaml': 'commonLabels:\n  enabled: "yes"\n  "off": "off"\ncommonAnnotations:\n  a: \'n\'\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('yaml11-option-yes-is-true', {'kustomization.yaml': 'generatorOptions:\n  disableNameSuffixHash: yes\nconfigMapGenerator:\n- name: a\n  literals:\n  - A=on\n  options:\n    immutable: on\n'})
case('yaml11-namespace-on-is-bool', {'kustomization.yaml': 'namespace: on\nresources:\n- cm.yaml\n', 'cm.yaml': CM})
case('yaml11-resource-yes-stays-string', {'kustomization.yaml': 'resources:\n- cm.yaml\n', 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    on: yes\ndata:\n  flag: on\n  other: n\n'})

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, (files, target) in CASES.items():
        cdir = os.path.join(here, name)
        if os.path.isdir(os.path.join(cdir, 'input')):
            shutil.rmtree(os.path.join(cdir, 'input'))
        os.makedirs(cdir, exist_ok=True)
        for rel, content in files.items():
            p = os.path.join(cdir, 'input', rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            mode = 'wb' if isinstance(content, bytes) else 'w'
            with open(p, mode) as f:
                f.write(content)
        tfile = os.path.join(cdir, 'target')
        if target:
            with open(tfile, 'w') as f:
                f.write(target + '\n')
        elif os.path.exists(tfile):
            os.remove(tfile)
    print('wrote', len(CASES), 'cases')

# Kustomize drops empty or null metadata.annotations on every object (labels: {} stays).
case('annotations-empty-and-null-dropped', {'kustomization.yaml': 'resources:\n- cms.yaml\n', 'cms.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {}\n  annotations: {}\ndata:\n  x: "1"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\ndata:\n  x: "1"\n'})


if __name__ == '__main__':
    main()

